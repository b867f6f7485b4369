/// The licenses a Debian package's `/usr/share/doc/PKG/copyright` names, when the file
/// is machine-readable (DEP-5, "copyright-format/1.0": its first paragraph has a
/// `Format:` field): the short name on the first line of each `License:` field, in
/// order, each once. Free-form copyright files give none.
enum DebianCopyright {
    static func licenses(_ text: String) -> [String] {
        let paragraphs = ControlParagraph.parse(text).paragraphs
        guard let header = paragraphs.first, header["Format"] != nil else { return [] }
        var licenses: [String] = []
        for paragraph in paragraphs {
            guard let name = paragraph.firstLine("License"), !name.isEmpty, !licenses.contains(name) else { continue }
            licenses.append(name)
        }
        return licenses
    }
}
