import CaissonJSON

/// One action of a `--format` template that calls docker's template functions on values:
/// `index X KEY...`, `len X`, `join X SEP`, `upper X`, `lower X`, `title X`, `json X`, each
/// argument a field path (`.Config.Labels`, `.` for the whole row), a variable with or
/// without a path (`$`, `$v`, `$v.Name`), a quoted string or an integer; stages joined by
/// `|` pass their value as the next function's last argument, as in Go's templates.
public struct TemplateCall: Sendable, Equatable {
    public enum Argument: Sendable, Equatable { case path(String), variable(String, path: String), string(String), number(Int) }
    struct Stage: Sendable, Equatable {
        var function: String?
        var arguments: [Argument]
    }
    let stages: [Stage]

    static let functions: Set<String> = ["index", "len", "join", "upper", "lower", "title", "json"]

    /// nil when the action is no function call or pipeline (the caller refuses it); a
    /// plain value (`.`, `.Mounts`) too unless `requiringFunction` is false (a block's).
    init?(parsing action: String, requiringFunction: Bool = true) throws(FormatTemplateError) {
        var stages: [Stage] = []
        let tokens = try TemplateCall.tokens(action)
        for part in tokens.split(separator: .pipe, omittingEmptySubsequences: false) {
            guard let first = part.first else { throw FormatTemplateError("template: missing value in {{\(action)}}") }
            var arguments: [Argument] = []
            var function: String?
            if case .word(let name) = first, !name.hasPrefix("."), !name.hasPrefix("$"), Int(name) == nil {
                guard TemplateCall.functions.contains(name) else {
                    if ["range", "if", "with", "else", "end", "define", "template", "block"].contains(name) { return nil }
                    throw FormatTemplateError("template: function \"\(name)\" not defined")
                }
                function = name
                for token in part.dropFirst() { arguments.append(try TemplateCall.argument(token, in: action)) }
            } else {
                guard part.count == 1 else { throw FormatTemplateError("template: can't give argument to non-function in {{\(action)}}") }
                arguments.append(try TemplateCall.argument(first, in: action))
            }
            stages.append(Stage(function: function, arguments: arguments))
        }
        guard !requiringFunction || stages.contains(where: { $0.function != nil }) else { return nil }
        self.stages = stages
    }

    /// The variables the call reads (`$` included), for the parser's check that each is declared.
    var variableNames: [String] {
        stages.flatMap(\.arguments).compactMap { if case .variable(let name, _) = $0 { return name } else { return nil } }
    }

    enum Token: Equatable { case word(String), quoted(String), pipe }

    static func tokens(_ text: String) throws(FormatTemplateError) -> [Token] {
        var tokens: [Token] = []
        var chars = Array(text)
        var i = 0
        chars.append(" ")
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" { i += 1; continue }
            if c == "|" { tokens.append(.pipe); i += 1; continue }
            if c == "\"" || c == "`" {
                var value = ""
                var j = i + 1
                while j < chars.count - 1, chars[j] != c {
                    if c == "\"", chars[j] == "\\", j + 1 < chars.count - 1 {
                        j += 1
                        switch chars[j] { case "n": value.append("\n"); case "t": value.append("\t"); default: value.append(chars[j]) }
                    } else {
                        value.append(chars[j])
                    }
                    j += 1
                }
                guard j < chars.count - 1 else { throw FormatTemplateError("template: unterminated quoted string in {{\(text)}}") }
                tokens.append(.quoted(value))
                i = j + 1
                continue
            }
            var word = ""
            while i < chars.count, chars[i] != " ", chars[i] != "\t", chars[i] != "|" { word.append(chars[i]); i += 1 }
            tokens.append(.word(word))
        }
        return tokens
    }

    static func argument(_ token: Token, in action: String) throws(FormatTemplateError) -> Argument {
        switch token {
        case .quoted(let text): return .string(text)
        case .word(let word) where word == ".": return .path("")
        case .word(let word) where word.hasPrefix("."): return .path(String(word.dropFirst()))
        case .word(let word) where word.hasPrefix("$"):
            let name = word.prefix { $0 != "." }
            guard name == "$" || name.dropFirst().allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw FormatTemplateError("template: bad variable \(word) in {{\(action)}}")
            }
            return .variable(String(name), path: String(word.dropFirst(name.count).drop { $0 == "." }))
        case .word(let word):
            if let number = Int(word) { return .number(number) }
            throw FormatTemplateError("template: unsupported argument \(word) in {{\(action)}}")
        case .pipe: throw FormatTemplateError("template: missing value for command in {{\(action)}}")
        }
    }

    func evaluate(_ fields: [(String, String)], json: JSONObject, dot: JSONValue? = nil,
                  variables: TemplateVariables? = nil) throws(FormatTemplateError) -> JSONValue {
        var piped: JSONValue?
        for stage in stages {
            var values: [JSONValue] = []
            for argument in stage.arguments {
                values.append(try TemplateCall.value(argument, fields, json: json, dot: dot, variables: variables))
            }
            if let piped { values.append(piped) }
            guard let function = stage.function else {
                piped = values.first
                continue
            }
            piped = try TemplateCall.apply(function, values)
        }
        return piped ?? .null
    }

    static func value(_ argument: Argument, _ fields: [(String, String)], json: JSONObject,
                      dot: JSONValue? = nil, variables: TemplateVariables? = nil) throws(FormatTemplateError) -> JSONValue {
        switch argument {
        case .string(let text): return .string(text)
        case .number(let number): return .number(String(number))
        case .variable(let name, let path):
            guard let variables else { throw FormatTemplateError("template: undefined variable \"\(name)\"") }
            let value = try variables.value(of: name)
            if path.isEmpty { return value }
            guard case .object(let members) = value else {
                throw FormatTemplateError("template: can't evaluate field \(path) in \(FormatTemplate.goDefaultText(value))")
            }
            // `$.Name` reads the row as `.Name` does at the top: its JSON, then its display values.
            return try TemplateCall.value(.path(path), name == "$" ? variables.rootFields : [], json: members, variables: variables)
        case .path(let path):
            if path.isEmpty { return dot ?? .object(json) }
            if let value = FormatTemplate.lookup(path, in: json) { return value }
            if let shown = fields.first(where: { $0.0 == path })?.1 { return .string(shown) }
            if path.contains("."), FormatTemplate.lookup(String(path.split(separator: ".")[0]), in: json) != nil { return .null }
            throw FormatTemplateError("template: can't evaluate field \(path)")
        }
    }

    static func apply(_ function: String, _ values: [JSONValue]) throws(FormatTemplateError) -> JSONValue {
        func text(_ value: JSONValue) -> String { FormatTemplate.goDefaultText(value) }
        func arity(_ count: Int) throws(FormatTemplateError) {
            guard values.count == count else {
                throw FormatTemplateError("template: wrong number of args for \(function): want \(count) got \(values.count)")
            }
        }
        switch function {
        case "index":
            guard var current = values.first else { throw FormatTemplateError("template: wrong number of args for index: want at least 1 got 0") }
            for key in values.dropFirst() {
                switch (current, key) {
                case (.object(let members), .string(let name)): current = members[name] ?? .null
                case (.array(let items), .number(let digits)):
                    guard let position = Int(digits), position >= 0, position < items.count else {
                        throw FormatTemplateError("template: error calling index: index out of range: \(digits)")
                    }
                    current = items[position]
                case (.null, _): throw FormatTemplateError("template: error calling index: index of untyped nil")
                default: throw FormatTemplateError("template: error calling index: cannot index \(text(current)) with \(text(key))")
                }
            }
            return current
        case "len":
            try arity(1)
            switch values[0] {
            case .array(let items): return .number(String(items.count))
            case .object(let members): return .number(String(members.keys.count))
            case .string(let string): return .number(String(string.utf8.count))
            default: throw FormatTemplateError("template: error calling len: len of \(text(values[0]))")
            }
        case "join":
            try arity(2)
            guard case .array(let items) = values[0] else { throw FormatTemplateError("template: error calling join: not a list") }
            return .string(items.map(text).joined(separator: text(values[1])))
        case "upper": try arity(1); return .string(text(values[0]).uppercased())
        case "lower": try arity(1); return .string(text(values[0]).lowercased())
        case "title":
            try arity(1)
            return .string(text(values[0]).split(separator: " ", omittingEmptySubsequences: false)
                .map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " "))
        default:
            try arity(1)
            return .string(String(decoding: JSONEncoding.serialize(values[0]), as: UTF8.self))
        }
    }
}
