import CaissonSys

/// Reads the operating system an image says it is from os-release(5): `/etc/os-release`,
/// else `/usr/lib/os-release`, with symbolic links followed inside the image (the first
/// is usually a link to the second).
public struct OSReleaseReader: Sendable {
    public static let paths = ["/etc/os-release", "/usr/lib/os-release"]

    public init() {}

    /// nil where the image has neither file (scratch and distroless-static images).
    public func read(_ files: any ImageFiles) throws(CatalogProblem) -> OperatingSystem? {
        for path in Self.paths {
            guard let resolved = files.resolvingSymlinks(path),
                  let bytes = files.contents(resolved, limit: 1 << 20) else { continue }
            let fields = OSReleaseReader.parse(String(decoding: bytes, as: UTF8.self))
            guard let id = fields["ID"], !id.isEmpty else {
                throw CatalogProblem(cataloger: "os-release", path: resolved, reason: "no ID field")
            }
            return OperatingSystem(
                id: id, versionID: fields["VERSION_ID"].flatMap { $0.isEmpty ? nil : $0 },
                prettyName: fields["PRETTY_NAME"],
                idLike: (fields["ID_LIKE"] ?? "").split(separator: " ").map(String.init))
        }
        return nil
    }

    /// `KEY=value` lines in the shell-compatible syntax os-release(5) allows: values
    /// bare or quoted with "..." or '...', backslash escapes inside double quotes and
    /// bare values, `#` comments.
    public static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let trimmed = Text.trim(String(line))
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = String(trimmed[..<equals])
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else { continue }
            fields[key] = unquote(trimmed[trimmed.index(after: equals)...])
        }
        return fields
    }

    private static func unquote(_ raw: Substring) -> String {
        var result = ""
        var quote: Character? = nil
        var escaped = false
        for character in raw {
            if escaped {
                // Inside double quotes the shell keeps a backslash before other characters.
                if quote == "\"" && !"$`\"\\".contains(character) { result.append("\\") }
                result.append(character)
                escaped = false
            } else if character == "\\" && quote != "'" {
                escaped = true
            } else if let open = quote {
                if character == open { quote = nil } else { result.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else {
                result.append(character)
            }
        }
        return result
    }
}
