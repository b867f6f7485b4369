/// The `--name[=value]` words between an instruction and its arguments, split off the
/// way BuildKit does it (quotes group, the escape character escapes, `--` ends them),
/// and then checked against the flags the instruction has. Its own type so each
/// instruction declares its flags once and gets BuildKit's errors for free.
struct InstructionFlags {
    enum Kind {
        case bool
        case string
        case strings
    }

    /// The flag words as written, without quotes.
    let words: [String]
    private var values: [String: [String]] = [:]

    init(words: [String]) {
        self.words = words
    }

    /// Checks every word against `declared`, recording values; errors name the instruction
    /// and the line like BuildKit's.
    mutating func parse(_ declared: [String: Kind], instruction: String, at location: SourceLocation) throws(DockerfileError) {
        for word in words {
            if word == "--" { return }
            guard word.hasPrefix("--") else {
                throw .invalidFlag(location, instruction: instruction, flag: word, "arg should start with -- : \(word)")
            }
            let flagName: String
            let value: String?
            if let eq = word.firstIndex(of: "=") {
                flagName = String(word[..<eq])
                value = String(word[word.index(after: eq)...])
            } else {
                flagName = word
                value = nil
            }
            let name = String(flagName.dropFirst(2))
            guard let kind = declared[name] else {
                throw .unknownFlag(location, instruction: instruction, flag: flagName)
            }
            if values[name] != nil && kind != .strings {
                throw .invalidFlag(location, instruction: instruction, flag: flagName, "duplicate flag specified: \(flagName)")
            }
            switch kind {
            case .bool:
                if let value, value.isEmpty {
                    throw .invalidFlag(location, instruction: instruction, flag: flagName, "missing a value on flag: \(flagName)")
                }
                switch (value ?? "").lowercased() {
                case "", "true": values[name] = ["true"]
                case "false": values[name] = ["false"]
                default:
                    throw .invalidFlag(location, instruction: instruction, flag: flagName,
                                       "expecting boolean value for flag \(flagName), not: \(value ?? "")")
                }
            case .string, .strings:
                guard let value else {
                    throw .invalidFlag(location, instruction: instruction, flag: flagName, "missing a value on flag: \(flagName)")
                }
                values[name, default: []].append(value)
            }
        }
    }

    func string(_ name: String) -> String? { values[name]?.last }
    func strings(_ name: String) -> [String] { values[name] ?? [] }
    func bool(_ name: String) -> Bool? { values[name].map { $0.last == "true" } }

    /// Splits the leading flags off an instruction's arguments: returns the flag words and
    /// the rest of the line.
    static func extract(from line: [Unicode.Scalar], escape: Unicode.Scalar) -> (flags: [String], rest: [Unicode.Scalar]) {
        enum Phase { case spaces, word, quote }
        var words: [String] = []
        var phase = Phase.spaces
        var current = String.UnicodeScalarView()
        var quote: Unicode.Scalar = "\""
        var blankOK = false
        var pos = 0
        while true {
            let atEnd = pos == line.count
            let ch: Unicode.Scalar = atEnd ? " " : line[pos]
            if phase == .spaces {
                if atEnd { break }
                if isUnicodeSpace(ch) {
                    pos += 1
                    continue
                }
                if ch != "-" || pos + 1 == line.count || line[pos + 1] != "-" {
                    return (words, Array(line[pos...]))
                }
                phase = .word
            }
            if atEnd {
                let word = String(current)
                if word != "--" && (blankOK || !word.isEmpty) { words.append(word) }
                break
            }
            if phase == .word {
                if isUnicodeSpace(ch) {
                    let word = String(current)
                    phase = .spaces
                    if word == "--" { return (words, Array(line[pos...])) }
                    if blankOK || !word.isEmpty { words.append(word) }
                    current = String.UnicodeScalarView()
                    blankOK = false
                    pos += 1
                    continue
                }
                if ch == "'" || ch == "\"" {
                    quote = ch
                    blankOK = true
                    phase = .quote
                    pos += 1
                    continue
                }
                var c = ch
                if ch == escape {
                    if pos + 1 == line.count {
                        pos += 1
                        continue
                    }
                    pos += 1
                    c = line[pos]
                }
                current.append(c)
                pos += 1
                continue
            }
            // in a quote
            if ch == quote {
                phase = .word
                pos += 1
                continue
            }
            var c = ch
            if ch == escape {
                if pos + 1 == line.count {
                    phase = .word
                    pos += 1
                    continue
                }
                pos += 1
                c = line[pos]
            }
            current.append(c)
            pos += 1
        }
        return (words, [])
    }
}
