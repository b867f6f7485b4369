import CaissonJSON

/// Builds JSON objects member by member in the order written, leaving out members
/// whose value is nil (optional fields the formats want absent, not null).
func jsonObject(_ members: KeyValuePairs<String, JSONValue?>) -> JSONValue {
    var object = JSONObject()
    for (key, value) in members {
        if let value { object.set(key, value) }
    }
    return .object(object)
}

extension JSONValue {
    static func text(_ value: String?) -> JSONValue? { value.map { .string($0) } }
}
