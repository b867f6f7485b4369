import CaissonSys

/// A wheel's `RECORD` (a CSV file beside METADATA): the installed files, each a path
/// relative to the directory holding the dist-info directory (often with `../` for
/// scripts), a hash and a size. Only the paths are read.
enum WheelRecord {
    static func paths(_ text: String, installRoot: String) -> [String] {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).compactMap { rawLine in
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            guard let path = firstField(line), !path.isEmpty else { return nil }
            return Paths.clean(path.hasPrefix("/") ? path : installRoot + "/" + path)
        }
    }

    /// The first CSV field, unquoted ("a,""b" is `a,"b`).
    private static func firstField(_ line: Substring) -> String? {
        guard line.first == "\"" else { return line.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) }
        var result = ""
        var index = line.index(after: line.startIndex)
        while index < line.endIndex {
            let character = line[index]
            index = line.index(after: index)
            if character == "\"" {
                if index < line.endIndex && line[index] == "\"" {
                    result.append("\"")
                    index = line.index(after: index)
                } else {
                    return result
                }
            } else {
                result.append(character)
            }
        }
        return nil
    }
}
