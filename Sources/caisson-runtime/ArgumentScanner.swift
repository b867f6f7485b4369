/// Parses one command's arguments the way runc's command line does: flags spelled
/// `-name` or `--name`, values as the next word or after `=`, repeated flags kept in
/// order, and `--` ending the flags. Flags may follow positional words unless the
/// command stops at its first positional word (exec and ps, whose trailing words belong
/// to the process).
struct ArgumentScanner {
    /// One flag: its names (the first is the key), whether it takes a value, and what
    /// `--help` says of it (`defaultText` is shown as "(default: TEXT)").
    struct Flag: Sendable {
        let names: [String]
        let takesValue: Bool
        var usage = ""
        var defaultText: String?
    }

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    private(set) var values: [String: [String]] = [:]
    private(set) var switches: Set<String> = []
    private(set) var positionals: [String] = []

    init(_ arguments: [String], flags: [Flag], stopAtFirstPositional: Bool = false, command: String) throws(UsageError) {
        var index = 0
        var flagsEnded = false
        func lookup(_ name: String) -> Flag? { flags.first { $0.names.contains(name) } }
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            if flagsEnded || !word.hasPrefix("-") || word == "-" {
                positionals.append(word)
                if stopAtFirstPositional {
                    positionals += arguments[index...]
                    break
                }
                continue
            }
            if word == "--" {
                flagsEnded = true
                continue
            }
            var name = String(word.drop(while: { $0 == "-" }))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let flag = lookup(name) else {
                throw UsageError(description: "\(command): unknown flag \"\(word)\" (see '\(command) --help')")
            }
            let key = flag.names[0]
            if flag.takesValue {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < arguments.count else {
                        throw UsageError(description: "\(command): flag \"\(word)\" needs a value")
                    }
                    value = arguments[index]
                    index += 1
                }
                values[key, default: []].append(value)
            } else {
                if let inlineValue, inlineValue == "false" { switches.remove(key); continue }
                switches.insert(key)
            }
        }
    }

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func isSet(_ name: String) -> Bool { switches.contains(name) }

    func integer(_ name: String) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text) else {
            throw UsageError(description: "--\(name): \"\(text)\" is not a number")
        }
        return number
    }
}
