import CaissonJSON

/// The `filters` query parameter of the list routes (`{"status":["running"]}`, or the old
/// form `{"name":{"web":true}}`) as each filter's values; what they mean is the engine's
/// (`ContainerListFilter`).
package enum FilterQuery {
    package static func values(_ text: String?) throws(DockerAPIError) -> [String: [String]] {
        guard let text, !text.isEmpty else { return [:] }
        guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else {
            throw .badParameter("invalid filters: \(text)")
        }
        var values: [String: [String]] = [:]
        for key in object.keys {
            switch object[key] {
            case .array(let items)?: values[key] = items.compactMap { if case .string(let s) = $0 { return s }; return nil }
            case .object(let map)?: values[key] = map.keys
            default: throw .badParameter("invalid filter '\(key)'")
            }
        }
        return values
    }
}
