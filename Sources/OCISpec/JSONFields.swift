import CaissonJSON

/// Typed access to the members of one JSON object, with the object's path for errors
/// ("linux.namespaces[2].type: expected a string").
///
/// config.json is read on every container start; reading it through Codable touches
/// about 1 MB of generic library code. The spec types read themselves through this
/// instead (their Codable conformance remains for writing).
public struct JSONFields {
    let object: JSONObject
    let path: String

    public init(_ value: JSONValue, path: String) throws(ConfigError) {
        guard case .object(let object) = value else { throw JSONFields.mismatch(path, "an object", value) }
        self.object = object
        self.path = path
    }

    static func mismatch(_ path: String, _ expected: String, _ value: JSONValue) -> ConfigError {
        ConfigError(file: "", "\(path.isEmpty ? "(top level)" : path): expected \(expected), found \(value.kindDescription)")
    }

    /// Parses `bytes` and reads the top-level object with `make`; errors name `file`.
    public static func read<T>(_ bytes: [UInt8], file: String, _ make: (JSONFields) throws(ConfigError) -> T) throws(ConfigError) -> T {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ConfigError(file: file, error.description)
        }
        do {
            return try make(try JSONFields(value, path: ""))
        } catch {
            throw ConfigError(file: file, error.message)
        }
    }

    func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member, or nil when absent or null (as Codable's decodeIfPresent).
    func member(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func required(_ key: String) throws(ConfigError) -> JSONValue {
        guard let value = member(key) else { throw ConfigError(file: "", "\(child(key)): required field is missing") }
        return value
    }

    // MARK: Values

    static func string(_ value: JSONValue, _ path: String) throws(ConfigError) -> String {
        guard case .string(let text) = value else { throw mismatch(path, "a string", value) }
        return text
    }

    static func bool(_ value: JSONValue, _ path: String) throws(ConfigError) -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(path, "a boolean", value) }
        return flag
    }

    static func integer<T: FixedWidthInteger>(_ value: JSONValue, _ path: String, as type: T.Type = T.self) throws(ConfigError) -> T {
        guard case .number(let text) = value else { throw mismatch(path, "a number (\(T.self))", value) }
        if let exact = T(text) { return exact }
        if let double = Double(text), double.rounded() == double, let converted = T(exactly: double) { return converted }
        throw ConfigError(file: "", "\(path): \(text) does not fit in \(T.self)")
    }

    static func array<T>(_ value: JSONValue, _ path: String, _ element: (JSONValue, String) throws(ConfigError) -> T) throws(ConfigError) -> [T] {
        guard case .array(let elements) = value else { throw mismatch(path, "an array", value) }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (index, item) in elements.enumerated() {
            result.append(try element(item, "\(path)[\(index)]"))
        }
        return result
    }

    // MARK: Members

    public func string(_ key: String) throws(ConfigError) -> String { try JSONFields.string(try required(key), child(key)) }

    func optionalString(_ key: String) throws(ConfigError) -> String? {
        guard let value = member(key) else { return nil }
        return try JSONFields.string(value, child(key))
    }

    func optionalBool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = member(key) else { return nil }
        return try JSONFields.bool(value, child(key))
    }

    func bool(_ key: String) throws(ConfigError) -> Bool { try JSONFields.bool(try required(key), child(key)) }

    public func integer<T: FixedWidthInteger>(_ key: String, as type: T.Type = T.self) throws(ConfigError) -> T {
        try JSONFields.integer(try required(key), child(key), as: type)
    }

    func optionalInteger<T: FixedWidthInteger>(_ key: String, as type: T.Type = T.self) throws(ConfigError) -> T? {
        guard let value = member(key) else { return nil }
        return try JSONFields.integer(value, child(key), as: type)
    }

    func optionalStrings(_ key: String) throws(ConfigError) -> [String]? {
        guard let value = member(key) else { return nil }
        return try JSONFields.array(value, child(key)) { (item, path) throws(ConfigError) in try JSONFields.string(item, path) }
    }

    func optionalArray<T>(_ key: String, _ make: (JSONFields) throws(ConfigError) -> T) throws(ConfigError) -> [T]? {
        guard let value = member(key) else { return nil }
        return try JSONFields.array(value, child(key)) { (item, path) throws(ConfigError) in try make(try JSONFields(item, path: path)) }
    }

    func optionalObject<T>(_ key: String, _ make: (JSONFields) throws(ConfigError) -> T) throws(ConfigError) -> T? {
        guard let value = member(key) else { return nil }
        return try make(try JSONFields(value, path: child(key)))
    }

    func object<T>(_ key: String, _ make: (JSONFields) throws(ConfigError) -> T) throws(ConfigError) -> T {
        try make(try JSONFields(try required(key), path: child(key)))
    }

    func optionalStringMap(_ key: String) throws(ConfigError) -> [String: String]? {
        guard let value = member(key) else { return nil }
        let fields = try JSONFields(value, path: child(key))
        var result: [String: String] = [:]
        for name in fields.object.keys {
            result[name] = try JSONFields.string(fields.object[name]!, fields.child(name))
        }
        return result
    }

    func optionalObjectMap<T>(_ key: String, _ make: (JSONFields) throws(ConfigError) -> T) throws(ConfigError) -> [String: T]? {
        guard let value = member(key) else { return nil }
        let fields = try JSONFields(value, path: child(key))
        var result: [String: T] = [:]
        for name in fields.object.keys {
            result[name] = try make(try JSONFields(fields.object[name]!, path: fields.child(name)))
        }
        return result
    }
}
