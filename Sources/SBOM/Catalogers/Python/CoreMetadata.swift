/// The header fields of a Python distribution's core metadata (a dist-info `METADATA`
/// or an egg-info `PKG-INFO`): RFC 822 style `Name: value` lines, continuation lines
/// starting with white space, ending at the first blank line (the description follows).
/// A field may repeat (`Classifier`).
struct CoreMetadata {
    private(set) var fields: [(name: String, value: String)] = []

    init(_ text: String) {
        // "\r\n" is one Character in Swift: split on both line endings explicitly (wheels
        // built on Windows have CR LF metadata).
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t" {
                if !fields.isEmpty { fields[fields.count - 1].value += "\n" + line }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            fields.append((String(line[..<colon]), String(value.reversed().drop { $0 == " " || $0 == "\t" }.reversed())))
        }
    }

    /// The first value of a field (names compared without regard to case).
    subscript(name: String) -> String? { all(name).first }

    func all(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return fields.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// `License-Expression` (metadata 2.4), else a one-line `License` other than
    /// "UNKNOWN" (a whole license text there names nothing), else the last part of each
    /// `License ::` classifier ("License :: OSI Approved :: MIT License" is "MIT License").
    var licenses: [String] {
        if let expression = self["License-Expression"], !expression.isEmpty { return [expression] }
        if let license = self["License"], !license.isEmpty, license != "UNKNOWN", !license.contains("\n") { return [license] }
        return all("Classifier").compactMap { classifier in
            let parts = classifier.split(separator: "::").map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
            guard parts.count > 2, parts[0] == "License" else { return nil }
            return parts.last
        }
    }
}
