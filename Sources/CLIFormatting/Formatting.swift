#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON

/// Output in docker's conventions: sizes in decimal units with three significant digits,
/// times as "2 hours ago", tables with aligned columns, and `--format` templates.
///
/// This module exists so that the `--format` template parser, which reads what users type,
/// can be tested and fuzzed without the command line's engine and image dependencies.
public enum Units {
    /// go-units HumanSize: 4.26MB, 523kB, 12B.
    public static func humanSize(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return significant(value) + units[unit]
    }

    public static func significant(_ value: Double) -> String {
        // Three significant digits, as docker prints sizes (go-units HumanSizeWithPrecision 3).
        var buffer = [CChar](repeating: 0, count: 32)
        _ = withVaList([value]) { vsnprintf(&buffer, 32, "%.3g", $0) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// go-units HumanDuration.
    public static func humanDuration(seconds: Int64) -> String {
        if seconds < 1 { return "Less than a second" }
        if seconds == 1 { return "1 second" }
        if seconds < 60 { return "\(seconds) seconds" }
        let minutes = seconds / 60
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = (seconds + 1800) / 3600
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(hours / 24 / 365) years"
    }

    public static func since(_ rfc3339: String?) -> String {
        guard let text = rfc3339, let epoch = Time.parseRFC3339(text) else { return "N/A" }
        return humanDuration(seconds: max(0, Int64(time(nil)) - epoch)) + " ago"
    }
}

/// RFC 3339 times as docker prints and filters them.
public enum Time {
    /// Seconds since the epoch of an RFC 3339 time (fractions ignored).
    public static func parseRFC3339(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int64? { Int64(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var index = 19
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
        }
        var offset: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"), bytes.count >= index + 6,
           let h = number((index + 1)..<(index + 3)), let m = number((index + 4)..<(index + 6)) {
            offset = (h * 3600 + m * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return days * 86400 + hour * 3600 + minute * 60 + second - offset
    }
}

/// Columns padded as docker's tabwriter does (three spaces between columns).
public enum Table {
    public static func render(_ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "" }
        // Rows may have more cells than the header (a value holding a tab, in a `table`
        // template): every column is measured.
        var widths = [Int](repeating: 0, count: rows.map(\.count).max() ?? 0)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += cell
                if i < row.count - 1 { line += String(repeating: " ", count: widths[i] - cell.count + 3) }
            }
            out += line + "\n"
        }
        return out
    }
}

/// Why a `--format` template cannot be parsed or rendered (the command line reports it
/// as a usage error).
public struct FormatTemplateError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The part of Go's text/template that `--format` is used with: `{{.Field}}`, `{{.}}`,
/// `{{json .}}`, `{{json .Field}}`, docker's functions on values (`index`, `len`, `join`,
/// `upper`, `lower`, `title`, `json`, called or piped: `{{index .Config.Labels "k"}}`,
/// `{{.Names | upper}}`), the blocks `range`, `if` and `with` (with `else`), variables
/// (`{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}`, `{{$n := .Name}}`, `$`), and a
/// leading `table` for a headed table. The command line turns its errors into usage errors (exit 125).
public struct FormatTemplate: Sendable {
    public enum Piece: Sendable, Equatable {
        case text(String), field(String), json(String?), call(TemplateCall), block(TemplateBlock)
        /// `{{$x := PIPELINE}}` (or `=` when `assigns`): prints nothing.
        case variable(String, assigns: Bool, value: TemplateCall)
    }
    public let pieces: [Piece]
    public let isTable: Bool

    /// How deep blocks may nest (a template is a line on a command line, not a program).
    static let maximumDepth = 32

    public init(parsing raw: String) throws(FormatTemplateError) {
        var format = raw.replacingEscapes()
        isTable = format.hasPrefix("table")
        if isTable { format = String(format.dropFirst(5)).drop(while: { $0 == " " }).description }
        var segments: [Segment] = []
        var rest = Substring(format)
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw FormatTemplateError("template: unclosed action in \"\(raw)\"")
            }
            segments.append(.action(String(rest[open.upperBound..<close.lowerBound]).trimmed()))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        var position = 0
        var declared = ["$"]
        let (pieces, terminator) = try FormatTemplate.parse(segments, &position, declared: &declared, depth: 0)
        if let terminator { throw FormatTemplateError("template: unexpected {{\(terminator)}}") }
        self.pieces = pieces
    }

    enum Segment { case text(String), action(String) }

    /// Pieces up to an `{{end}}` or `{{else}}` (returned as the terminator) or the end;
    /// `declared` holds the variables in scope (Go refuses others when it parses).
    static func parse(_ segments: [Segment], _ position: inout Int, declared: inout [String],
                      depth: Int) throws(FormatTemplateError) -> ([Piece], String?) {
        guard depth <= maximumDepth else { throw FormatTemplateError("template: blocks nested more than \(maximumDepth) deep") }
        var pieces: [Piece] = []
        func checked(_ call: TemplateCall) throws(FormatTemplateError) -> TemplateCall {
            if let unknown = call.variableNames.first(where: { !declared.contains($0) }) {
                throw FormatTemplateError("template: undefined variable \"\(unknown)\"")
            }
            return call
        }
        while position < segments.count {
            let segment = segments[position]
            position += 1
            guard case .action(let action) = segment else {
                if case .text(let text) = segment { pieces.append(.text(text)) }
                continue
            }
            if action == "end" || action == "else" { return (pieces, action) }
            if let kind = TemplateBlock.Kind.allCases.first(where: { action.hasPrefix($0.rawValue + " ") }) {
                var expression = String(action.dropFirst(kind.rawValue.count + 1)).trimmed()
                let declaration = try TemplateDeclaration(parsing: expression, allowingTwo: kind == .range)
                if let declaration {
                    guard !declaration.assigns else { throw FormatTemplateError("template: \(kind.rawValue) declares its variables with := in {{\(action)}}") }
                    expression = declaration.pipeline
                }
                guard let value = try TemplateCall(parsing: expression, requiringFunction: false) else {
                    throw FormatTemplateError("template: missing value for \(kind.rawValue)")
                }
                let scope = declared.count
                let checkedValue = try checked(value)
                declared += declaration?.names ?? []
                let (body, first) = try parse(segments, &position, declared: &declared, depth: depth + 1)
                var otherwise: [Piece] = []
                if first == "else" {
                    let (elseBody, second) = try parse(segments, &position, declared: &declared, depth: depth + 1)
                    guard second == "end" else { throw FormatTemplateError("template: unexpected EOF in \(kind.rawValue)") }
                    otherwise = elseBody
                } else if first != "end" {
                    throw FormatTemplateError("template: unexpected EOF in \(kind.rawValue)")
                }
                declared.removeLast(declared.count - scope)
                pieces.append(.block(TemplateBlock(kind: kind, variables: declaration?.names ?? [], value: checkedValue,
                                                   body: body, otherwise: otherwise)))
            } else if let declaration = try TemplateDeclaration(parsing: action, allowingTwo: false) {
                guard let value = try TemplateCall(parsing: declaration.pipeline, requiringFunction: false) else {
                    throw FormatTemplateError("template: missing value for \(declaration.names[0]) in {{\(action)}}")
                }
                let name = declaration.names[0]
                if declaration.assigns, !declared.contains(name) { throw FormatTemplateError("template: undefined variable \"\(name)\"") }
                pieces.append(.variable(name, assigns: declaration.assigns, value: try checked(value)))
                if !declaration.assigns { declared.append(name) }
            } else if action == "json ." {
                pieces.append(.json(nil))
            } else if action.hasPrefix("json ."), action.count > 6, !action.contains(" |") {
                pieces.append(.json(String(action.dropFirst(6))))
            } else if action.hasPrefix("."), !action.contains(" "), action.count > 1 {
                pieces.append(.field(String(action.dropFirst())))
            } else if let call = try TemplateCall(parsing: action, requiringFunction: action != "." && !action.hasPrefix("$")) {
                pieces.append(.call(try checked(call)))
            } else {
                throw FormatTemplateError("template: unsupported action {{\(action)}} (use {{.Field}}, {{json .}}, a function (index, len, join, upper, lower, title) or range, if, with)")
            }
        }
        return (pieces, nil)
    }

    /// Renders one row; `fields` maps names to display values; `json` is the row as JSON.
    public func rendering(_ fields: [(String, String)], json: JSONObject) throws(FormatTemplateError) -> String {
        var variables = TemplateVariables(root: .object(json), fields: fields)
        return try FormatTemplate.render(pieces, fields, dot: .object(json), variables: &variables)
    }

    /// `pieces` with `dot` as `.`: the row at the top (where `fields` apply), an element
    /// inside `range`, a value inside `with`.
    static func render(_ pieces: [Piece], _ fields: [(String, String)], dot: JSONValue,
                       variables: inout TemplateVariables) throws(FormatTemplateError) -> String {
        let json: JSONObject
        if case .object(let members) = dot { json = members } else { json = JSONObject() }
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .field(let name):
                guard case .object = dot else {
                    throw FormatTemplateError("template: can't evaluate field \(name) in \(goDefaultText(dot))")
                }
                if let value = fields.first(where: { $0.0 == name })?.1 {
                    out += value
                } else if let value = FormatTemplate.lookup(name, in: json) {
                    if case .null = value { out += "<no value>" } else { out += FormatTemplate.goDefaultText(value) }
                } else if name.contains("."), FormatTemplate.lookup(String(name.split(separator: ".")[0]), in: json) != nil {
                    out += "<no value>"  // a missing map key, as Go's templates print it
                } else {
                    throw FormatTemplateError("template: can't evaluate field \(name) (fields: \(fields.map(\.0).joined(separator: ", ")))")
                }
            case .call(let call):
                let value = try call.evaluate(fields, json: json, dot: dot, variables: variables)
                if case .null = value { out += "<no value>" } else { out += FormatTemplate.goDefaultText(value) }
            case .variable(let name, let assigns, let call):
                let value = try call.evaluate(fields, json: json, dot: dot, variables: variables)
                if assigns { try variables.assign(name, value) } else { variables.declare(name, value) }
            case .json(let name):
                if let name {
                    guard let value = FormatTemplate.lookup(name, in: json) else { throw FormatTemplateError("template: can't evaluate field \(name)") }
                    out += String(decoding: JSONEncoding.serialize(value), as: UTF8.self)
                } else {
                    out += String(decoding: JSONEncoding.serialize(dot), as: UTF8.self)
                }
            case .block(let block):
                out += try block.render(fields, json: json, dot: dot, variables: &variables)
            }
        }
        return out
    }

    /// A value as Go's templates print one without a function (fmt's `%v`): strings bare,
    /// lists as `[a b]`, maps as `map[k:v]` with sorted keys, nil as `<nil>`. (docker's
    /// struct-typed fields print as `{v1 v2}` there; as maps here, which their JSON is.)
    public static func goDefaultText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "<nil>"
        case .array(let items): return "[" + items.map(goDefaultText).joined(separator: " ") + "]"
        case .object(let members):
            let pairs = members.keys.sorted().map { key in key + ":" + goDefaultText(members[key] ?? .null) }
            return "map[" + pairs.joined(separator: " ") + "]"
        }
    }

    /// `A.B.C` inside a JSON object.
    public static func lookup(_ path: String, in object: JSONObject) -> JSONValue? {
        var current: JSONValue = .object(object)
        for key in path.split(separator: ".") {
            guard case .object(let members) = current, let next = members[String(key)] else { return nil }
            current = next
        }
        return current
    }

    /// The header row of a `table` template: the field names in upper case with docker's spacing.
    public func header(_ names: [String: String]) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .field(let name): out += names[name] ?? name.uppercased()
            case .json, .call, .block, .variable: out += ""
            }
        }
        return out
    }
}

extension String {
    public func trimmed() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\n" }).reversed().drop(while: { $0 == " " || $0 == "\n" }).reversed())
    }
    public func replacingEscapes() -> String {
        var out = ""
        var iterator = makeIterator()
        while let c = iterator.next() {
            if c == "\\" {
                switch iterator.next() {
                case "t": out.append("\t")
                case "n": out.append("\n")
                case let other?: out.append("\\"); out.append(other)
                case nil: out.append("\\")
                }
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// Table rows from a `table` template line are tab separated; align them.
public enum TabAlign {
    public static func align(_ lines: [String]) -> String {
        Table.render(lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) })
    }
}
