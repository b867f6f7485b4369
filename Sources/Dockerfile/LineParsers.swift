import CaissonJSON
import CLIFormatting

/// How BuildKit splits an instruction's argument text before typing it: JSON arrays,
/// whitespace lists, quoted words, `name=value` lists. Kept apart from the instruction
/// rules because several instructions share each shape.
enum LineParsers {
    enum JSONArrayResult {
        case strings([String])
        case notJSON
    }

    static let notStringArray = "when using JSON array syntax, arrays must be comprised of strings only"

    /// A JSON array of strings; `.notJSON` when the text does not start with `[` or is not
    /// valid JSON (the caller falls back to the shell form); an error for a valid array
    /// holding anything but strings.
    static func jsonArray(_ rest: String) -> Result<JSONArrayResult, StringError> {
        let trimmed = String(String.UnicodeScalarView(rest.unicodeScalars.drop(while: isUnicodeSpace)))
        guard trimmed.hasPrefix("[") else { return .success(.notJSON) }
        guard let value = try? JSONParser.parse(Array(trimmed.utf8)), case .array(let items) = value else {
            return .success(.notJSON)
        }
        var strings: [String] = []
        for item in items {
            guard case .string(let s) = item else { return .failure(StringError(notStringArray)) }
            strings.append(s)
        }
        return .success(.strings(strings))
    }

    /// Splits on runs of `[\t\v\f\r ]` (BuildKit's whitespace list).
    static func whitespaceList(_ rest: String) -> [String] {
        if rest.isEmpty { return [] }
        var words: [String] = []
        var current = String.UnicodeScalarView()
        var inSeparator = false
        for c in rest.unicodeScalars {
            if isSplitSpace(c) {
                if !inSeparator {
                    words.append(String(current))
                    current = String.UnicodeScalarView()
                    inSeparator = true
                }
            } else {
                current.append(c)
                inSeparator = false
            }
        }
        words.append(String(current))
        return words
    }

    /// Words separated by whitespace, quotes and escapes kept as written (they are removed
    /// by substitution later); a quoted empty string is a word.
    static func words(_ rest: String, escape: Unicode.Scalar) -> [String] {
        enum Phase { case spaces, word, quote }
        let s = Array(rest.unicodeScalars)
        var words: [String] = []
        var phase = Phase.spaces
        var quote: Unicode.Scalar = "\""
        var blankOK = false
        var current = String.UnicodeScalarView()
        var pos = 0
        while pos <= s.count {
            let atEnd = pos == s.count
            var ch: Unicode.Scalar = atEnd ? " " : s[pos]
            if phase == .spaces {
                if atEnd { break }
                if isUnicodeSpace(ch) {
                    pos += 1
                    continue
                }
                phase = .word
            }
            if atEnd {
                if blankOK || !current.isEmpty { words.append(String(current)) }
                break
            }
            if phase == .word {
                if isUnicodeSpace(ch) {
                    phase = .spaces
                    if blankOK || !current.isEmpty { words.append(String(current)) }
                    current = String.UnicodeScalarView()
                    blankOK = false
                    pos += 1
                    continue
                }
                if ch == "'" || ch == "\"" {
                    quote = ch
                    blankOK = true
                    phase = .quote
                }
                if ch == escape {
                    if pos + 1 == s.count {
                        pos += 1
                        continue
                    }
                    current.append(ch)
                    pos += 1
                    ch = s[pos]
                }
                current.append(ch)
                pos += 1
                continue
            }
            // in a quote
            if ch == quote { phase = .word }
            if ch == escape && quote != "'" {
                if pos + 1 == s.count {
                    phase = .word
                    pos += 1
                    continue
                }
                current.append(ch)
                pos += 1
                ch = s[pos]
            }
            current.append(ch)
            pos += 1
        }
        return words
    }

    /// ENV and LABEL: `name value` (legacy, one pair) or `name=value ...`.
    static func nameValues(_ rest: String, instruction: String, escape: Unicode.Scalar) -> Result<[KeyValue], StringError> {
        let words = words(rest, escape: escape)
        guard let first = words.first else { return .success([]) }
        if !first.contains("=") {
            // split on the first run of [\t\v\f\r ]
            let scalars = Array(rest.unicodeScalars)
            guard let sep = scalars.firstIndex(where: isSplitSpace) else {
                return .failure(StringError("\(instruction) must have two arguments"))
            }
            var end = sep
            while end < scalars.count, isSplitSpace(scalars[end]) { end += 1 }
            let key = String(String.UnicodeScalarView(scalars[..<sep]))
            let value = String(String.UnicodeScalarView(scalars[end...]))
            return .success([KeyValue(key: key, value: value, legacy: true)])
        }
        var pairs: [KeyValue] = []
        for word in words {
            guard let eq = word.firstIndex(of: "=") else {
                return .failure(StringError("Syntax error - can't find = in \"\(word)\". Must be of the form: name=value"))
            }
            pairs.append(KeyValue(key: String(word[..<eq]), value: String(word[word.index(after: eq)...])))
        }
        return .success(pairs)
    }

    /// Go's `strings.TrimSpace`.
    static func trimSpace(_ s: some Collection<Unicode.Scalar>) -> String {
        let a = Array(s)
        var start = 0
        var end = a.count
        while start < end, isUnicodeSpace(a[start]) { start += 1 }
        while end > start, isUnicodeSpace(a[end - 1]) { end -= 1 }
        return String(String.UnicodeScalarView(a[start..<end]))
    }

    /// Go's `time.ParseDuration`, in nanoseconds (`CLIFormatting.GoDuration`, which the
    /// command line and the container monitor share).
    static func goDuration(_ text: String) -> Int64? {
        GoDuration.parse(text)
    }
}

/// A plain message, turned into a located `DockerfileError` by the caller.
struct StringError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
