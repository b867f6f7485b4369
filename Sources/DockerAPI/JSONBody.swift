import CaissonJSON

/// A request body's JSON object, read field by field: a field of the wrong type is a
/// 400 that names it (`HostConfig.Memory: expected a number, got a string`); null and
/// absent fields are nil, as docker's Go decoding leaves them at their zero value.
struct JSONBody {
    let object: JSONObject
    /// The path of this object in the document, for messages ("HostConfig.").
    let prefix: String

    init(object: JSONObject, prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    /// The body of a request: an object, or 400 (an empty body is an empty object).
    init(parsing bytes: [UInt8]) throws(DockerAPIError) {
        guard bytes.contains(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }) else {
            self.init(object: JSONObject())
            return
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw .badParameter("malformed request body: \(error)") }
        guard case .object(let object) = value else {
            throw .badParameter("malformed request body: expected a JSON object, got \(value.kindDescription)")
        }
        self.init(object: object)
    }

    private func mismatch(_ key: String, _ expected: String, _ value: JSONValue) -> DockerAPIError {
        .badParameter("invalid field \(prefix)\(key): expected \(expected), got \(value.kindDescription)")
    }

    /// Whether a field holds something other than docker's zero value (absent, null, "",
    /// 0, false, [] or {}): a request that sets it asks for something.
    func isSet(_ key: String) -> Bool {
        switch object[key] {
        case nil, .null?, .bool(false)?: return false
        case .string(let text)?: return !text.isEmpty
        case .number(let text)?: return Double(text) != 0
        case .array(let items)?: return !items.isEmpty
        case .object(let fields)?: return !fields.keys.isEmpty
        case .bool(true)?: return true
        }
    }

    /// The field's path in the document, for messages.
    func path(_ key: String) -> String { prefix + key }

    private func present(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws(DockerAPIError) -> String? {
        guard let value = present(key) else { return nil }
        guard case .string(let text) = value else { throw mismatch(key, "a string", value) }
        return text
    }

    func bool(_ key: String) throws(DockerAPIError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard case .bool(let flag) = value else { throw mismatch(key, "a boolean", value) }
        return flag
    }

    func int64(_ key: String) throws(DockerAPIError) -> Int64? {
        guard let value = present(key) else { return nil }
        guard case .number(let text) = value, let number = Int64(text) else { throw mismatch(key, "an integer", value) }
        return number
    }

    /// A list of strings; docker also takes a single string for Cmd and Entrypoint.
    func strings(_ key: String, acceptingString: Bool = false) throws(DockerAPIError) -> [String]? {
        guard let value = present(key) else { return nil }
        if acceptingString, case .string(let text) = value { return [text] }
        guard case .array(let items) = value else { throw mismatch(key, "an array of strings", value) }
        var result: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw mismatch(key, "an array of strings", value) }
            result.append(text)
        }
        return result
    }

    /// A list of integers (ConsoleSize).
    func ints(_ key: String) throws(DockerAPIError) -> [Int]? {
        guard let value = present(key) else { return nil }
        guard case .array(let items) = value else { throw mismatch(key, "an array of integers", value) }
        var result: [Int] = []
        for item in items {
            guard case .number(let text) = item, let number = Int(text) else { throw mismatch(key, "an array of integers", value) }
            result.append(number)
        }
        return result
    }

    func stringMap(_ key: String) throws(DockerAPIError) -> [String: String]? {
        guard let value = present(key) else { return nil }
        guard case .object(let map) = value else { throw mismatch(key, "an object of strings", value) }
        var result: [String: String] = [:]
        for name in map.keys {
            guard case .string(let text)? = map[name] else { throw mismatch(key, "an object of strings", value) }
            result[name] = text
        }
        return result
    }

    func double(_ key: String) throws(DockerAPIError) -> Double? {
        guard let value = present(key) else { return nil }
        guard case .number(let text) = value, let number = Double(text) else { throw mismatch(key, "a number", value) }
        return number
    }

    /// An object's fields in order, each value as given (PortBindings, Tmpfs, EndpointsConfig).
    func fields(_ key: String) throws(DockerAPIError) -> [(name: String, value: JSONValue)]? {
        guard let value = present(key) else { return nil }
        guard case .object(let map) = value else { throw mismatch(key, "an object", value) }
        return map.keys.map { ($0, map[$0]!) }
    }

    /// A list of objects (Mounts, Ulimits, Devices), each read with its place in the path.
    func objects(_ key: String) throws(DockerAPIError) -> [JSONBody]? {
        guard let value = present(key) else { return nil }
        guard case .array(let items) = value else { throw mismatch(key, "an array of objects", value) }
        var result: [JSONBody] = []
        for (index, item) in items.enumerated() {
            guard case .object(let inner) = item else { throw mismatch(key, "an array of objects", value) }
            result.append(JSONBody(object: inner, prefix: "\(prefix)\(key)[\(index)]."))
        }
        return result
    }

    /// Refuses, by name, every field set to something other than its zero value that is
    /// not in `known`; `unsupported` ones get a message saying they are not carried out.
    func refuseFields(except known: Set<String>) throws(DockerAPIError) {
        for key in object.keys where !known.contains(key) && isSet(key) {
            throw .badParameter("invalid field \(path(key)): not supported by Caisson's API yet")
        }
    }

    func object(_ key: String) throws(DockerAPIError) -> JSONBody? {
        guard let value = present(key) else { return nil }
        guard case .object(let inner) = value else { throw mismatch(key, "an object", value) }
        return JSONBody(object: inner, prefix: prefix + key + ".")
    }
}
