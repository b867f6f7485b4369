/// One paragraph of a deb822 control file (dpkg's status database, a DEP-5 copyright
/// file): `Field: value` lines, continuation lines starting with a space or a tab, and
/// paragraphs separated by blank lines. Field names are matched without regard to case.
public struct ControlParagraph: Sendable {
    /// The line the paragraph starts on (1-based), for error messages.
    public var line: Int
    public private(set) var fields: [(name: String, value: String)] = []

    public subscript(name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    /// The first line of a field, trimmed: a license's short name, a package's name.
    public func firstLine(_ name: String) -> String? {
        guard let value = self[name] else { return nil }
        let first = value.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let trimmed = first.drop { $0 == " " || $0 == "\t" }
        return String(trimmed.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// Paragraphs of `text`. Lines before a paragraph's first field that are
    /// continuations, or lines without a colon, are malformed: they are reported in
    /// `problems` (with their line numbers) and skipped.
    public static func parse(_ text: String) -> (paragraphs: [ControlParagraph], problems: [String]) {
        var paragraphs: [ControlParagraph] = []
        var problems: [String] = []
        var current: ControlParagraph? = nil
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if let paragraph = current { paragraphs.append(paragraph) }
                current = nil
                continue
            }
            if line.first == " " || line.first == "\t" {
                guard var paragraph = current, !paragraph.fields.isEmpty else {
                    problems.append("line \(number): continuation line outside a field")
                    continue
                }
                paragraph.fields[paragraph.fields.count - 1].value += "\n" + line.dropFirst()
                current = paragraph
                continue
            }
            if line.first == "#" && current == nil { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                problems.append("line \(number): not a field: \(line.prefix(80))")
                continue
            }
            let name = String(line[..<colon])
            let value = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            if current == nil { current = ControlParagraph(line: number) }
            current!.fields.append((name, value))
        }
        if let paragraph = current { paragraphs.append(paragraph) }
        return (paragraphs, problems)
    }
}
