/// The parser directives at the top of a Dockerfile (`# syntax=`, `# escape=`, `# check=`).
/// They exist apart from instructions because they change how the rest of the file is
/// read (the escape character) and stop being recognised at the first line that is not one.
public struct Directives: Sendable, Equatable {
    /// `# syntax=...`: the frontend image BuildKit would use; Caisson records it only.
    public var syntax: String?
    /// `# escape=...`: `\` (the default) or a backtick.
    public var escape: Unicode.Scalar = "\\"
    /// `# check=...`: BuildKit's lint configuration, accepted and ignored.
    public var check: String?

    public init() {}
}

/// Recognises directives line by line, as BuildKit's DirectiveParser does: a directive is
/// `#` then `key=value` with a known key (case-insensitive); the first line that is not
/// one (a blank line, another comment, an instruction, an unknown key) ends them for good.
struct DirectiveScanner {
    private(set) var directives = Directives()
    private var done = false
    private var seen: Set<String> = []

    /// Looks at one physical line (leading whitespace already removed, line ending
    /// removed); returns true if it was a directive.
    mutating func scan(_ line: [Unicode.Scalar], location: SourceLocation) throws(DockerfileError) -> Bool {
        if done { return false }
        guard line.first == "#" else {
            done = true
            return false
        }
        var rest = line.dropFirst().drop(while: isGoSpace)
        // key: [a-zA-Z][a-zA-Z0-9]*
        var key = ""
        guard let first = rest.first, isASCIILetter(first) else {
            done = true
            return false
        }
        while let c = rest.first, isASCIILetter(c) || ("0"..."9").contains(c) {
            key.unicodeScalars.append(c)
            rest = rest.dropFirst()
        }
        _ = first
        rest = rest.drop(while: isGoSpace)
        guard rest.first == "=" else {
            done = true
            return false
        }
        rest = rest.dropFirst().drop(while: isGoSpace)
        var valueScalars = Array(rest)
        while let last = valueScalars.last, isGoSpace(last) { valueScalars.removeLast() }
        guard !valueScalars.isEmpty else {
            done = true
            return false
        }
        key = key.lowercased()
        guard ["syntax", "escape", "check"].contains(key) else {
            done = true
            return false
        }
        if seen.contains(key) {
            throw .invalidDirective(location, "only one \(key) parser directive can be used")
        }
        seen.insert(key)
        var value = ""
        value.unicodeScalars.append(contentsOf: valueScalars)
        switch key {
        case "escape":
            guard value == "\\" || value == "`" else {
                throw .invalidDirective(location, "invalid escape token '\(value)' does not match ` or \\")
            }
            directives.escape = valueScalars[0]
        case "syntax": directives.syntax = value
        default: directives.check = value
        }
        return true
    }
}

/// Go's `\s` in regular expressions: space, tab, newline, form feed, carriage return.
@inline(__always)
func isGoSpace(_ c: Unicode.Scalar) -> Bool {
    c == " " || c == "\t" || c == "\n" || c == "\u{0C}" || c == "\r"
}

/// Go's `unicode.IsSpace`.
@inline(__always)
func isUnicodeSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x20, 0x85, 0xA0: true
    default: c.value > 0xFF && c.properties.isWhitespace
    }
}

/// BuildKit's `[\t\v\f\r ]`, the whitespace that separates an instruction from its arguments.
@inline(__always)
func isSplitSpace(_ c: Unicode.Scalar) -> Bool {
    c == " " || c == "\t" || c == "\u{0B}" || c == "\u{0C}" || c == "\r"
}

@inline(__always)
func isASCIILetter(_ c: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(c) || ("A"..."Z").contains(c)
}
