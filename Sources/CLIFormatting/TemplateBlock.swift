import CaissonJSON

/// A `range`, `if` or `with` block of a `--format` template: the value its pipeline gives
/// in the current `.`, the pieces rendered for it and those of its `else`. As in Go's
/// templates: `range` renders the body once per element of a list (or value of a map, by
/// sorted key) with the element as `.`; `if` renders it when the value is not empty
/// (false, 0, "", null, [] and {} are empty); `with` does so with the value as `.`. Variables
/// declared at the head (`range $i, $e :=`: index or key, then element; one: the element;
/// `with`/`if $v :=`: the value) live in the body and the `else`.
public struct TemplateBlock: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case range, `if`, with }
    let kind: Kind
    let variables: [String]
    let value: TemplateCall
    let body: [FormatTemplate.Piece]
    let otherwise: [FormatTemplate.Piece]

    func render(_ fields: [(String, String)], json: JSONObject, dot: JSONValue,
                variables scope: inout TemplateVariables) throws(FormatTemplateError) -> String {
        let value = try self.value.evaluate(fields, json: json, dot: dot, variables: scope)
        let mark = scope.mark
        defer { scope.pop(to: mark) }
        // As Go does: the head's variables hold the pipeline's value (what `else` sees); a range sets them per element.
        for name in variables { scope.declare(name, value) }
        switch kind {
        case .range:
            var elements: [(key: JSONValue, element: JSONValue)] = []
            switch value {
            case .array(let items): elements = items.enumerated().map { (.number(String($0.offset)), $0.element) }
            case .object(let members): elements = members.keys.sorted().map { (.string($0), members[$0] ?? .null) }
            case .null: break
            default: throw FormatTemplateError("template: range can't iterate over \(FormatTemplate.goDefaultText(value))")
            }
            if elements.isEmpty { return try FormatTemplate.render(otherwise, fields, dot: dot, variables: &scope) }
            var out = ""
            for (key, element) in elements {
                let iteration = scope.mark
                if variables.count == 2 {
                    scope.declare(variables[0], key)
                    scope.declare(variables[1], element)
                } else if let name = variables.first {
                    scope.declare(name, element)
                }
                out += try FormatTemplate.render(body, [], dot: element, variables: &scope)
                scope.pop(to: iteration)
            }
            return out
        case .if:
            return try FormatTemplate.render(TemplateBlock.isTrue(value) ? body : otherwise, fields, dot: dot, variables: &scope)
        case .with:
            return TemplateBlock.isTrue(value) ? try FormatTemplate.render(body, [], dot: value, variables: &scope)
                : try FormatTemplate.render(otherwise, fields, dot: dot, variables: &scope)
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
