/// A `.dockerignore` / `.containerignore` file (and COPY's `--exclude` patterns): which
/// paths of the build context are left out. It matches as moby's patternmatcher does:
/// `*` and `?` stay within one path element, `**` crosses elements, `[...]` classes,
/// `\` escapes; a leading `/` is dropped; `!pattern` re-includes what earlier patterns
/// excluded; a path is excluded when it or one of its parent directories matches; the
/// last matching pattern wins.
public struct IgnoreFile: Sendable, Equatable {
    public let patterns: [IgnorePattern]

    /// Whether any pattern is an exception (`!`): then an excluded directory may still
    /// hold included files, so the builder must walk into it.
    public var hasExceptions: Bool { patterns.contains(where: \.isException) }

    /// Reads an ignore file's text: `#` comments at the very start of a line, blank lines
    /// skipped, surrounding whitespace trimmed, paths cleaned.
    public init(parsing text: String, file: String = ".dockerignore") throws(DockerfileError) {
        var bytes = Array(text.utf8)[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        // Split on scalars: as Characters, CR LF would be one grapheme.
        var lines = String(decoding: bytes, as: UTF8.self).unicodeScalars
            .split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var patterns: [IgnorePattern] = []
        for (index, rawLine) in lines.enumerated() {
            var scalars = rawLine
            if scalars.last == "\r" { scalars = scalars.dropLast() }
            let line = String(String.UnicodeScalarView(scalars))
            if line.hasPrefix("#") { continue }
            var pattern = LineParsers.trimSpace(line.unicodeScalars)
            if pattern.isEmpty { continue }
            let invert = pattern.hasPrefix("!")
            if invert { pattern = LineParsers.trimSpace(pattern.unicodeScalars.dropFirst()) }
            if !pattern.isEmpty {
                pattern = cleanPath(pattern)
                if pattern.count > 1 && pattern.hasPrefix("/") { pattern.removeFirst() }
            }
            do {
                if let compiled = try IgnorePattern(invert ? "!" + pattern : pattern) { patterns.append(compiled) }
            } catch {
                throw .invalidIgnorePattern(file: file, line: index + 1, pattern: String(line), error.message)
            }
        }
        self.patterns = patterns
    }

    /// Patterns given one by one (COPY `--exclude`).
    public init(patterns: [String], source: String = "--exclude") throws(DockerfileError) {
        var compiled: [IgnorePattern] = []
        for (index, p) in patterns.enumerated() {
            do {
                if let c = try IgnorePattern(p) { compiled.append(c) }
            } catch {
                throw .invalidIgnorePattern(file: source, line: index + 1, pattern: p, error.message)
            }
        }
        self.patterns = compiled
    }

    /// Whether `path` (relative to the context root, slash-separated) is excluded.
    public func excludes(_ path: String) -> Bool {
        let file = cleanPath(path)
        if file == "." { return false }
        let parentElements: [Substring]
        if let slash = file.lastIndex(of: "/") {
            parentElements = file[..<slash].split(separator: "/", omittingEmptySubsequences: false)
        } else {
            parentElements = []
        }
        var matched = false
        for pattern in patterns {
            if pattern.isException != matched { continue }
            var match = pattern.matches(file)
            if !match && !parentElements.isEmpty {
                for count in 1...parentElements.count {
                    if pattern.matches(parentElements[..<count].joined(separator: "/")) {
                        match = true
                        break
                    }
                }
            }
            if match { matched = !pattern.isException }
        }
        return matched
    }
}

/// One compiled ignore pattern.
public struct IgnorePattern: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case literal(Unicode.Scalar)
        case anyInElement            // *
        case oneInElement            // ?
        case anyDirectories          // **/ in the middle: (.*/)?
        case anything                // ** at the end: .*
        case characterClass([ClosedRange<UInt32>], negated: Bool)
    }

    enum Kind: Sendable, Equatable {
        case exact, prefix, suffix, tokens
    }

    /// The pattern after cleaning, without `!`.
    public let pattern: String
    public let isException: Bool
    let kind: Kind
    let tokens: [Token]

    /// nil for a pattern that is empty after trimming.
    init?(_ text: String) throws(StringError) {
        var p = LineParsers.trimSpace(text.unicodeScalars)
        if p.isEmpty { return nil }
        p = cleanPath(p)
        var exception = false
        if p.hasPrefix("!") {
            if p == "!" { throw StringError("illegal exclusion pattern: \"!\"") }
            exception = true
            p.removeFirst()
        }
        pattern = p
        isException = exception
        let s = Array(p.unicodeScalars)
        var tokens: [Token] = []
        var kind = Kind.exact
        var i = 0
        var iteration = 0
        while i < s.count {
            let ch = s[i]
            i += 1
            defer { iteration += 1 }
            switch ch {
            case "*":
                if i < s.count, s[i] == "*" {
                    i += 1
                    if i < s.count, s[i] == "/" { i += 1 }
                    if i == s.count {
                        if kind == .exact {
                            kind = .prefix
                        } else {
                            tokens.append(.anything)
                            kind = .tokens
                        }
                    } else {
                        tokens.append(.anyDirectories)
                        kind = .tokens
                    }
                    if iteration == 0 { kind = .suffix }
                } else {
                    tokens.append(.anyInElement)
                    kind = .tokens
                }
            case "?":
                tokens.append(.oneInElement)
                kind = .tokens
            case "\\":
                if i < s.count {
                    tokens.append(.literal(s[i]))
                    i += 1
                    kind = .tokens
                } else {
                    throw StringError("syntax error in pattern")
                }
            case "[":
                var negated = false
                if i < s.count, s[i] == "^" {
                    negated = true
                    i += 1
                }
                var ranges: [ClosedRange<UInt32>] = []
                var closed = false
                var first = true
                while i < s.count {
                    var c = s[i]
                    if c == "]" && !first {
                        i += 1
                        closed = true
                        break
                    }
                    first = false
                    i += 1
                    if c == "\\" {
                        guard i < s.count else { break }
                        c = s[i]
                        i += 1
                    }
                    var high = c
                    if i + 1 < s.count, s[i] == "-", s[i + 1] != "]" {
                        high = s[i + 1]
                        i += 2
                        if high == "\\" {
                            guard i < s.count else { break }
                            high = s[i]
                            i += 1
                        }
                    }
                    guard c.value <= high.value else { throw StringError("syntax error in pattern") }
                    ranges.append(c.value...high.value)
                }
                guard closed else { throw StringError("syntax error in pattern") }
                tokens.append(.characterClass(ranges, negated: negated))
                kind = .tokens
            case "]":
                throw StringError("syntax error in pattern")
            default:
                tokens.append(.literal(ch))
            }
        }
        self.kind = kind
        self.tokens = tokens
    }

    /// Whether the cleaned, slash-separated `path` matches this pattern (no parent logic).
    public func matches(_ path: String) -> Bool {
        switch kind {
        case .exact:
            return path == pattern
        case .prefix:
            return path.hasPrefix(String(pattern.dropLast(2)))
        case .suffix:
            let suffix = String(pattern.dropFirst(2))
            if path.hasSuffix(suffix) { return true }
            return suffix.hasPrefix("/") && path == String(suffix.dropFirst())
        case .tokens:
            return Self.match(tokens[...], Array(path.unicodeScalars)[...])
        }
    }

    /// Whether the tokens match all of `s`, simulated over the set of reachable positions
    /// (no recursion, so a long pattern cannot exhaust the stack).
    private static func match(_ tokens: ArraySlice<Token>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        let chars = Array(s)
        let n = chars.count
        var reachable = [Bool](repeating: false, count: n + 1)
        reachable[0] = true
        for token in tokens {
            var next = [Bool](repeating: false, count: n + 1)
            var any = false
            switch token {
            case .literal(let c):
                for p in 0..<n where reachable[p] && chars[p] == c { next[p + 1] = true; any = true }
            case .oneInElement:
                for p in 0..<n where reachable[p] && chars[p] != "/" { next[p + 1] = true; any = true }
            case .characterClass(let ranges, let negated):
                for p in 0..<n where reachable[p] && ranges.contains(where: { $0.contains(chars[p].value) }) != negated {
                    next[p + 1] = true
                    any = true
                }
            case .anyInElement, .anything:
                // [^/]* stops at a slash, .* at a newline.
                let stop: Unicode.Scalar = token == .anyInElement ? "/" : "\n"
                var open = false
                for p in 0...n {
                    if reachable[p] { open = true }
                    if open { next[p] = true; any = true }
                    if p < n && chars[p] == stop { open = false }
                }
            case .anyDirectories:
                // (.*/)? : stay, or move past any slash reachable without crossing a newline.
                var open = false
                for p in 0...n {
                    if reachable[p] { next[p] = true; any = true }
                    if reachable[p] { open = true }
                    if p < n {
                        if chars[p] == "\n" { open = false } else if open && chars[p] == "/" { next[p + 1] = true; any = true }
                    }
                }
            }
            if !any { return false }
            reachable = next
        }
        return reachable[n]
    }
}
