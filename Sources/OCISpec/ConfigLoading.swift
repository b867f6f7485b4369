import CaissonJSON
#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// A config.json (or process.json, resources.json) that could not be used, with the
/// file and the field at fault.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}

/// Decodes OCI JSON documents and turns decoding failures into one-line messages
/// that name the field ("config.json: process.args: expected an array").
public enum SpecJSON {
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], file: String) throws(ConfigError) -> T {
        do {
            return try JSONDecoding.decode(type, from: bytes)
        } catch let error as DecodingError {
            throw ConfigError(file: file, describe(error))
        } catch {
            throw ConfigError(file: file, "\(error)")
        }
    }

    /// Compact JSON bytes (state files, hook stdin), or indented for people.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) -> [UInt8] {
        // Encoding our own well-formed values cannot fail (no non-finite floats).
        (try? JSONEncoding.encode(value, pretty: pretty)) ?? Array("{}".utf8)
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "(top level)" : text
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type)), found null"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): required field is missing"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return context.debugDescription }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        switch name {
        case "String": return "a string"
        case "Bool": return "a boolean"
        case "Int", "Int64", "Int32", "UInt", "UInt64", "UInt32", "UInt16": return "a number (\(name))"
        default: return "an object"
        }
    }
}
