import CaissonJSON

/// A `range`, `if` or `with` block of a `--format` template: the value its pipeline gives
/// in the current `.`, the pieces rendered for it and those of its `else`. As in Go's
/// templates: `range` renders the body once per element of a list (or value of a map, by
/// sorted key) with the element as `.`; `if` renders it when the value is not empty
/// (false, 0, "", null, [] and {} are empty); `with` does so with the value as `.`.
public struct TemplateBlock: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case range, `if`, with }
    let kind: Kind
    let value: TemplateCall
    let body: [FormatTemplate.Piece]
    let otherwise: [FormatTemplate.Piece]

    func render(_ fields: [(String, String)], json: JSONObject, dot: JSONValue) throws(FormatTemplateError) -> String {
        let value = try self.value.evaluate(fields, json: json, dot: dot)
        switch kind {
        case .range:
            var elements: [JSONValue] = []
            switch value {
            case .array(let items): elements = items
            case .object(let members): elements = members.keys.sorted().map { members[$0] ?? .null }
            case .null: break
            default: throw FormatTemplateError("template: range can't iterate over \(FormatTemplate.goDefaultText(value))")
            }
            if elements.isEmpty { return try FormatTemplate.render(otherwise, fields, dot: dot) }
            var out = ""
            for element in elements { out += try FormatTemplate.render(body, [], dot: element) }
            return out
        case .if:
            return try FormatTemplate.render(TemplateBlock.isTrue(value) ? body : otherwise, fields, dot: dot)
        case .with:
            return TemplateBlock.isTrue(value) ? try FormatTemplate.render(body, [], dot: value)
                : try FormatTemplate.render(otherwise, fields, dot: dot)
        }
    }

    /// Go's truth: everything but false, 0, "", nil and empty lists and maps.
    static func isTrue(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return false
        case .bool(let flag): return flag
        case .number(let text): return Double(text) != 0
        case .string(let text): return !text.isEmpty
        case .array(let items): return !items.isEmpty
        case .object(let members): return !members.keys.isEmpty
        }
    }
}
