/// Where variable values come from during substitution. A protocol so the builder can
/// pass a `StageEnvironment`, a dictionary, or anything else that answers by name.
public protocol VariableLookup {
    /// The variable's value, or nil when it is not set (set-but-empty is `""`).
    func value(of name: String) -> String?
}

extension Dictionary: VariableLookup where Key == String, Value == String {
    public func value(of name: String) -> String? { self[name] }
}

/// What one substitution produced: the whole result (`ProcessWord`), the same split into
/// words (`ProcessWords`: quoted text stays one word, unquoted expansions are split at
/// whitespace), and the variables it looked at, so a build cache can key a step on
/// exactly the build arguments it used.
public struct Expansion: Sendable, Equatable {
    public var result: String
    public var words: [String]
    public var matched: Set<String>
    public var unmatched: Set<String>
}

/// Dockerfile variable substitution, as BuildKit's shell lexer does it: `$V`, `${V}`,
/// `${V:-w}` `${V-w}` `${V:+w}` `${V+w}` `${V:?m}` `${V?m}`, `${V#p}` `${V##p}` `${V%p}`
/// `${V%%p}`, `${V/p/r}` `${V//p/r}`, single and double quotes, and the escape character.
/// It exists as a value (not a function) because each caller needs a different mode:
/// instructions use the file's escape and remove quotes; heredoc detection keeps quotes
/// and escapes and leaves unknown variables alone; heredoc bodies ignore quotes.
public struct ShellLexer: Sendable {
    public var escape: Unicode.Scalar
    /// Keep quote characters in the result.
    public var rawQuotes = false
    /// Keep escape characters in the result.
    public var rawEscapes = false
    /// Treat quotes as ordinary characters (heredoc bodies).
    public var skipProcessQuotes = false
    /// Leave references to unset variables as written.
    public var skipUnsetEnv = false

    public init(escape: Unicode.Scalar = "\\") {
        self.escape = escape
    }

    /// Substitutes in `word` with values from `env`.
    public func expand(_ word: String, _ env: some VariableLookup) throws(DockerfileError) -> Expansion {
        var state = ShellWordState(lexer: self, source: Array(word.unicodeScalars), lookup: { env.value(of: $0) })
        do {
            let (result, words) = try state.processStopOn(nil, rawEscapes: rawEscapes)
            return Expansion(result: result, words: words, matched: state.matched, unmatched: state.unmatched)
        } catch {
            throw .substitution(nil, "failed to process \"\(word)\": \(error.message)")
        }
    }

    /// The whole result of substituting in `word` (BuildKit's `ProcessWord`).
    public func word(_ word: String, _ env: some VariableLookup) throws(DockerfileError) -> String {
        try expand(word, env).result
    }

    /// The words of `word` after substitution (BuildKit's `ProcessWords`).
    public func words(_ word: String, _ env: some VariableLookup) throws(DockerfileError) -> [String] {
        try expand(word, env).words
    }
}

struct SubstitutionFailure: Error {
    var message: String
}

/// Accumulates words the way BuildKit does: unquoted whitespace separates words, quoted
/// text and escaped characters are kept whole, and an empty quoted string makes no word.
private struct WordsBuilder {
    var buffer = ""
    var words: [String] = []
    var inWord = false

    mutating func addChar(_ c: Unicode.Scalar) {
        if isUnicodeSpace(c) {
            if inWord && !buffer.isEmpty {
                words.append(buffer)
                buffer = ""
                inWord = false
            }
        } else {
            addRawChar(c)
        }
    }

    mutating func addRawChar(_ c: Unicode.Scalar) {
        buffer.unicodeScalars.append(c)
        inWord = true
    }

    mutating func addString(_ s: String) {
        for c in s.unicodeScalars { addChar(c) }
    }

    mutating func addRawString(_ s: String) {
        buffer += s
        inWord = true
    }

    mutating func finish() -> [String] {
        if !buffer.isEmpty {
            words.append(buffer)
            buffer = ""
            inWord = false
        }
        return words
    }
}

private struct ShellWordState {
    let lexer: ShellLexer
    let source: [Unicode.Scalar]
    let lookup: (String) -> String?
    var position = 0
    var rawEscapes: Bool
    var matched: Set<String> = []
    var unmatched: Set<String> = []

    init(lexer: ShellLexer, source: [Unicode.Scalar], lookup: @escaping (String) -> String?) {
        self.lexer = lexer
        self.source = source
        self.lookup = lookup
        self.rawEscapes = lexer.rawEscapes
    }

    var peek: Unicode.Scalar? { position < source.count ? source[position] : nil }

    mutating func next() -> Unicode.Scalar? {
        guard position < source.count else { return nil }
        defer { position += 1 }
        return source[position]
    }

    mutating func getEnv(_ name: String) -> String? {
        if let value = lookup(name) {
            matched.insert(name)
            return value
        }
        unmatched.insert(name)
        return nil
    }

    /// How deep `${...}` may nest: each level recurses, and a hostile line must not
    /// exhaust the stack.
    static let maximumNesting = 200
    var nesting = 0

    mutating func processStopOn(_ stop: Unicode.Scalar?, rawEscapes: Bool) throws(SubstitutionFailure) -> (String, [String]) {
        nesting += 1
        defer { nesting -= 1 }
        if nesting > Self.maximumNesting {
            throw SubstitutionFailure(message: "substitutions nested more than \(Self.maximumNesting) deep")
        }
        let saved = self.rawEscapes
        self.rawEscapes = rawEscapes
        defer { self.rawEscapes = saved }
        var result = ""
        var words = WordsBuilder()
        while let c = peek {
            if let stop, c == stop {
                position += 1
                return (result, words.finish())
            }
            switch c {
            case "$":
                let value = try processDollar()
                result += value
                words.addString(value)
            case "<":
                let value = processPossibleHeredoc()
                result += value
                words.addRawString(value)
            case "'" where !lexer.skipProcessQuotes:
                let value = try processSingleQuote()
                result += value
                words.addRawString(value)
            case "\"" where !lexer.skipProcessQuotes:
                let value = try processDoubleQuote()
                result += value
                words.addRawString(value)
            default:
                var ch = next()!
                if ch == lexer.escape {
                    if self.rawEscapes {
                        words.addRawChar(ch)
                        result.unicodeScalars.append(ch)
                    }
                    guard let escaped = next() else { break }
                    ch = escaped
                    words.addRawChar(ch)
                } else {
                    words.addChar(ch)
                }
                result.unicodeScalars.append(ch)
            }
        }
        if let stop {
            throw SubstitutionFailure(message: "unexpected end of statement while looking for matching \(stop)")
        }
        return (result, words.finish())
    }

    mutating func processSingleQuote() throws(SubstitutionFailure) -> String {
        var result = ""
        let open = next()!
        if lexer.rawQuotes { result.unicodeScalars.append(open) }
        while true {
            guard let c = next() else {
                throw SubstitutionFailure(message: "unexpected end of statement while looking for matching single-quote")
            }
            if c == "'" {
                if lexer.rawQuotes { result.unicodeScalars.append(c) }
                return result
            }
            result.unicodeScalars.append(c)
        }
    }

    mutating func processDoubleQuote() throws(SubstitutionFailure) -> String {
        var result = ""
        let open = next()!
        if lexer.rawQuotes { result.unicodeScalars.append(open) }
        while true {
            guard let c = peek else {
                throw SubstitutionFailure(message: "unexpected end of statement while looking for matching double-quote")
            }
            if c == "\"" {
                position += 1
                if lexer.rawQuotes { result.unicodeScalars.append(c) }
                return result
            }
            if c == "$" {
                result += try processDollar()
                continue
            }
            var ch = next()!
            if ch == lexer.escape {
                if rawEscapes { result.unicodeScalars.append(ch) }
                guard let following = peek else { continue }
                if following == "\"" || following == "$" || following == lexer.escape {
                    ch = next()!
                }
            }
            result.unicodeScalars.append(ch)
        }
    }

    mutating func processDollar() throws(SubstitutionFailure) -> String {
        position += 1  // $
        if peek != "{" {
            let name = processName()
            if name.isEmpty { return "$" }
            guard let value = getEnv(name) else {
                return lexer.skipUnsetEnv ? "$" + name : ""
            }
            return value
        }
        position += 1  // {
        switch peek {
        case nil: throw SubstitutionFailure(message: "syntax error: missing '}'")
        case "{", "}", ":": throw SubstitutionFailure(message: "syntax error: bad substitution")
        default: break
        }
        let name = processName()
        guard var ch = next() else { throw SubstitutionFailure(message: "syntax error: missing '}'") }
        var modifier = String(ch)
        var nullIsUnset = false
        switch ch {
        case "}":
            guard let value = getEnv(name) else {
                return lexer.skipUnsetEnv ? "${\(name)}" : ""
            }
            return value
        case ":", "+", "-", "?", "#", "%":
            if ch == ":" {
                nullIsUnset = true
                guard let following = next() else { throw SubstitutionFailure(message: "syntax error: missing '}'") }
                ch = following
                modifier.unicodeScalars.append(ch)
            }
            let patternMode = ch == "#" || ch == "%"
            if nullIsUnset && patternMode {
                throw SubstitutionFailure(message: "unsupported modifier (\(modifier)) in substitution")
            }
            let word: String
            do {
                word = try processStopOn("}", rawEscapes: patternMode).0
            } catch {
                if peek == nil { throw SubstitutionFailure(message: "syntax error: missing '}'") }
                throw error
            }
            let value = getEnv(name)
            if lexer.skipUnsetEnv && value == nil {
                return "${\(name)\(modifier)\(word)}"
            }
            let isUnset = value == nil || (nullIsUnset && value == "")
            switch ch {
            case "-":
                return isUnset ? word : value!
            case "+":
                return isUnset ? "" : word
            case "?":
                if value == nil {
                    throw SubstitutionFailure(message: "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)")
                }
                if nullIsUnset && value == "" {
                    throw SubstitutionFailure(message: "\(name): \(word.isEmpty ? "is not allowed to be empty" : word)")
                }
                return value!
            case "#", "%":
                var pattern = word
                var greedy = false
                if pattern.unicodeScalars.first == ch {
                    greedy = true
                    pattern = String(pattern.unicodeScalars.dropFirst())
                }
                let compiled = try ShellPattern(pattern)
                let subject = Array((value ?? "").unicodeScalars)
                let kept: ArraySlice<Unicode.Scalar>
                if ch == "#" {
                    kept = compiled.trimmingPrefix(of: subject, greedy: greedy)
                } else {
                    kept = compiled.trimmingSuffix(of: subject, greedy: greedy)
                }
                var out = ""
                out.unicodeScalars.append(contentsOf: kept)
                return out
            default:
                throw SubstitutionFailure(message: "unsupported modifier (\(modifier)) in substitution")
            }
        case "/":
            let replaceAll = peek == "/"
            if replaceAll { position += 1 }
            let pattern: String
            do {
                pattern = try processStopOn("/", rawEscapes: true).0
            } catch {
                if peek == nil { throw SubstitutionFailure(message: "syntax error: missing '/' in ${}") }
                throw error
            }
            let replacement: String
            do {
                replacement = try processStopOn("}", rawEscapes: true).0
            } catch {
                if peek == nil { throw SubstitutionFailure(message: "syntax error: missing '}'") }
                throw error
            }
            let value = getEnv(name)
            if lexer.skipUnsetEnv && value == nil {
                return "${\(name)/\(pattern)/\(replacement)}"
            }
            let compiled = try ShellPattern(pattern)
            return compiled.replacing(in: value ?? "", with: replacement, all: replaceAll)
        default:
            throw SubstitutionFailure(message: "unsupported modifier (\(modifier)) in substitution")
        }
    }

    /// A variable name: letters, digits and `_`; or all the digits of a positional
    /// parameter; or one special parameter character.
    mutating func processName() -> String {
        var name = ""
        while let c = peek {
            if name.isEmpty && isDecimalDigit(c) {
                while let d = peek, isDecimalDigit(d) {
                    name.unicodeScalars.append(d)
                    position += 1
                }
                return name
            }
            if name.isEmpty && "@*#?-$!0".unicodeScalars.contains(c) {
                position += 1
                return String(c)
            }
            guard isLetter(c) || isDecimalDigit(c) || c == "_" else { break }
            name.unicodeScalars.append(c)
            position += 1
        }
        return name
    }

    mutating func processPossibleHeredoc() -> String {
        position += 1
        guard peek == "<" else { return "<" }
        position += 1
        var result = "<<"
        while let c = peek, c == " " || c == "\t" || c == "\r" {
            result.unicodeScalars.append(c)
            position += 1
        }
        return result
    }
}

/// Go's `unicode.IsDigit`: decimal digits of any script.
func isDecimalDigit(_ c: Unicode.Scalar) -> Bool {
    c.properties.generalCategory == .decimalNumber
}

/// Go's `unicode.IsLetter`: the letter categories.
func isLetter(_ c: Unicode.Scalar) -> Bool {
    switch c.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
    default: false
    }
}
