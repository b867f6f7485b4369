/// A TOML value, as much of TOML as containers-registries.conf(5) uses: strings, integers,
/// booleans, arrays, tables, arrays of tables and inline tables.
public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case array([TOMLValue])
    case table([String: TOMLValue])

    public subscript(key: String) -> TOMLValue? {
        if case .table(let members) = self { return members[key] }
        return nil
    }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [TOMLValue]? { if case .array(let a) = self { return a }; return nil }
}

/// Where and why a TOML document does not parse.
public struct TOMLError: Error, CustomStringConvertible, Sendable {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// A small strict TOML parser (the subset above; dates and floats are refused clearly).
///
/// It lives in `RegistryConfig`, the registry settings without the HTTP client, so that
/// this parser of files other tools write can be built, tested and fuzzed on its own.
public struct TOMLParser {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var depth = 0

    /// Limits that no configuration comes near, so that a hostile file cannot exhaust the
    /// stack (nested arrays and inline tables) or memory (a table name of thousands of parts).
    public static let maxNesting = 64
    public static let maxKeyParts = 64

    public static func parse(_ text: String) throws(TOMLError) -> TOMLValue {
        var parser = TOMLParser(bytes: Array(text.utf8))
        return try parser.document()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ reason: String) -> TOMLError { TOMLError(line: line, reason: reason) }
    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpaces() {
        while let c = current, c == 0x20 || c == 0x09 { index += 1 }
    }

    /// Spaces, newlines and comments.
    private mutating func skipBlank() {
        while let c = current {
            if c == 0x20 || c == 0x09 || c == 0x0d { index += 1 } else if c == 0x0a { index += 1; line += 1 } else if c == 0x23 {
                while let d = current, d != 0x0a { index += 1 }
            } else { break }
        }
    }

    private mutating func endOfLine() throws(TOMLError) {
        skipSpaces()
        if current == 0x23 { while let d = current, d != 0x0a { index += 1 } }
        if current == 0x0d { index += 1 }
        guard current == nil || current == 0x0a else { throw fail("unexpected text after a value") }
    }

    private mutating func document() throws(TOMLError) -> TOMLValue {
        var root: [String: TOMLValue] = [:]
        var path: [String] = []   // current table
        var inArray = false
        while true {
            skipBlank()
            guard let c = current else { break }
            if c == UInt8(ascii: "[") {
                index += 1
                let isArray = current == UInt8(ascii: "[")
                if isArray { index += 1 }
                skipSpaces()
                path = try keyPath()
                skipSpaces()
                guard current == UInt8(ascii: "]") else { throw fail("expected ] after a table name") }
                index += 1
                if isArray {
                    guard current == UInt8(ascii: "]") else { throw fail("expected ]] after an array-of-tables name") }
                    index += 1
                }
                try endOfLine()
                inArray = isArray
                try TOMLParser.openTable(&root, path, appendingArrayElement: isArray, line: line)
                continue
            }
            let key = try keyPath()
            skipSpaces()
            guard current == UInt8(ascii: "=") else { throw fail("expected = after key \"\(key.joined(separator: "."))\"") }
            index += 1
            skipSpaces()
            let value = try parseValue()
            try endOfLine()
            try TOMLParser.assign(&root, path, key, value, line: line)
            _ = inArray
        }
        return .table(root)
    }

    private mutating func keyPath() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            if current == UInt8(ascii: "\"") {
                parts.append(try basicString())
            } else if current == UInt8(ascii: "'") {
                parts.append(try literalString())
            } else {
                let start = index
                while let c = current, (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
                        || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") { index += 1 }
                guard index > start else { throw fail("expected a key") }
                parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
            }
            skipSpaces()
            if current == UInt8(ascii: ".") {
                guard parts.count < TOMLParser.maxKeyParts else { throw fail("a key has more than \(TOMLParser.maxKeyParts) parts") }
                index += 1
                continue
            }
            return parts
        }
    }

    private mutating func parseValue() throws(TOMLError) -> TOMLValue {
        guard let c = current else { throw fail("expected a value") }
        if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
            guard depth < TOMLParser.maxNesting else {
                throw fail("arrays and inline tables nest more than \(TOMLParser.maxNesting) levels deep")
            }
            depth += 1
        }
        defer { if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") { depth -= 1 } }
        switch c {
        case UInt8(ascii: "\""): return .string(try basicString())
        case UInt8(ascii: "'"): return .string(try literalString())
        case UInt8(ascii: "["):
            index += 1
            var items: [TOMLValue] = []
            while true {
                skipBlank()
                if current == UInt8(ascii: "]") { index += 1; return .array(items) }
                items.append(try parseValue())
                skipBlank()
                if current == UInt8(ascii: ",") { index += 1; continue }
                guard current == UInt8(ascii: "]") else { throw fail("expected , or ] in an array") }
            }
        case UInt8(ascii: "{"):
            index += 1
            var table: [String: TOMLValue] = [:]
            skipSpaces()
            if current == UInt8(ascii: "}") { index += 1; return .table(table) }
            while true {
                let key = try keyPath()
                skipSpaces()
                guard current == UInt8(ascii: "=") else { throw fail("expected = in an inline table") }
                index += 1
                skipSpaces()
                try TOMLParser.assign(&table, [], key, try parseValue(), line: line)
                skipSpaces()
                if current == UInt8(ascii: ",") { index += 1; continue }
                guard current == UInt8(ascii: "}") else { throw fail("expected , or } in an inline table") }
                index += 1
                return .table(table)
            }
        default:
            let start = index
            while let d = current, d != 0x0a, d != 0x23, d != UInt8(ascii: ","), d != UInt8(ascii: "]"),
                  d != UInt8(ascii: "}"), d != 0x20, d != 0x09, d != 0x0d { index += 1 }
            let word = String(decoding: bytes[start..<index], as: UTF8.self)
            if word == "true" { return .bool(true) }
            if word == "false" { return .bool(false) }
            if let number = Int64(word.replacingUnderscores()) { return .integer(number) }
            throw fail("unsupported value \"\(word)\" (strings, integers, booleans, arrays and tables are)")
        }
    }

    private mutating func basicString() throws(TOMLError) -> String {
        if bytes[index...].starts(with: Array("\"\"\"".utf8)) { throw fail("multi-line strings are not supported") }
        index += 1
        var out: [UInt8] = []
        while true {
            guard let c = current, c != 0x0a else { throw fail("unterminated string") }
            index += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard let e = current else { throw fail("unterminated string") }
            index += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(e)
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let length = e == UInt8(ascii: "u") ? 4 : 8
                guard index + length <= bytes.count,
                      let value = UInt32(String(decoding: bytes[index..<(index + length)], as: UTF8.self), radix: 16),
                      let scalar = Unicode.Scalar(value) else { throw fail("bad unicode escape") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
                index += length
            default: throw fail("unknown escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
    }

    private mutating func literalString() throws(TOMLError) -> String {
        index += 1
        let start = index
        while let c = current, c != UInt8(ascii: "'") {
            guard c != 0x0a else { throw fail("unterminated string") }
            index += 1
        }
        guard current != nil else { throw fail("unterminated string") }
        defer { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Creates `[path]` (or appends an element for `[[path]]`) in the document.
    static func openTable(_ root: inout [String: TOMLValue], _ path: [String], appendingArrayElement: Bool,
                          line: Int) throws(TOMLError) {
        guard let first = path.first else { return }
        let rest = Array(path.dropFirst())
        var child = root[first]
        if rest.isEmpty {
            if appendingArrayElement {
                var items = child?.array ?? []
                if child != nil && child?.array == nil { throw TOMLError(line: line, reason: "\(first) is not an array of tables") }
                items.append(.table([:]))
                root[first] = .array(items)
            } else if child == nil {
                root[first] = .table([:])
            }
            return
        }
        // Descend into the last element of an array of tables, or a table.
        if case .array(var items)? = child, case .table(var last)? = items.last {
            try openTable(&last, rest, appendingArrayElement: appendingArrayElement, line: line)
            items[items.count - 1] = .table(last)
            root[first] = .array(items)
            return
        }
        var table: [String: TOMLValue] = [:]
        if case .table(let existing)? = child { table = existing } else if child != nil {
            throw TOMLError(line: line, reason: "\(first) is not a table")
        }
        try openTable(&table, rest, appendingArrayElement: appendingArrayElement, line: line)
        child = .table(table)
        root[first] = child
    }

    /// Sets `key` (dotted) inside the table at `path`.
    static func assign(_ root: inout [String: TOMLValue], _ path: [String], _ key: [String], _ value: TOMLValue,
                       line: Int) throws(TOMLError) {
        if let first = path.first {
            let rest = Array(path.dropFirst())
            switch root[first] {
            case .array(var items)?:
                guard case .table(var last)? = items.last else { throw TOMLError(line: line, reason: "\(first) is not a table") }
                try assign(&last, rest, key, value, line: line)
                items[items.count - 1] = .table(last)
                root[first] = .array(items)
            case .table(var table)?:
                try assign(&table, rest, key, value, line: line)
                root[first] = .table(table)
            case nil:
                var table: [String: TOMLValue] = [:]
                try assign(&table, rest, key, value, line: line)
                root[first] = .table(table)
            default:
                throw TOMLError(line: line, reason: "\(first) is not a table")
            }
            return
        }
        if key.count == 1 {
            guard root[key[0]] == nil else { throw TOMLError(line: line, reason: "key \"\(key[0])\" is defined twice") }
            root[key[0]] = value
            return
        }
        try assign(&root, [key[0]], Array(key.dropFirst()), value, line: line)
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(self.filter { $0 != "_" }) }
}
