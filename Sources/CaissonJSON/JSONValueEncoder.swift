/// Encodes Encodable types to JSON bytes without Foundation: compact for files the
/// runtime reads back, or indented by two spaces (Go's style, as runc prints) for people.
/// Object members keep their declaration order.
public enum JSONEncoding {
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> [UInt8] {
        let node = EncodingNode()
        try value.encode(to: ValueEncoder(node: node, codingPath: []))
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        JSONWriter(pretty: pretty).write(node.finish(), into: &output, indent: 0)
        return output
    }

    /// Serialises an already built JSON value.
    public static func serialize(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        JSONWriter(pretty: pretty).write(value, into: &output, indent: 0)
        return output
    }
}

/// A value under construction; containers write into it in place.
final class EncodingNode {
    enum Kind {
        case unset
        case value(JSONValue)
        case object(keys: [String], children: [String: EncodingNode])
        case array([EncodingNode])
    }

    var kind = Kind.unset

    func finish() -> JSONValue {
        switch kind {
        case .unset: return .object(JSONObject())
        case .value(let value): return value
        case .object(let keys, let children):
            var object = JSONObject()
            for key in keys { object.set(key, children[key]!.finish()) }
            return .object(object)
        case .array(let nodes): return .array(nodes.map { $0.finish() })
        }
    }

    func makeObject() {
        if case .object = kind { return }
        kind = .object(keys: [], children: [:])
    }

    func makeArray() {
        if case .array = kind { return }
        kind = .array([])
    }

    func set(_ key: String, _ child: EncodingNode) {
        guard case .object(var keys, var children) = kind else { return }
        kind = .unset
        if children.updateValue(child, forKey: key) == nil { keys.append(key) }
        kind = .object(keys: keys, children: children)
    }

    func append(_ child: EncodingNode) {
        guard case .array(var nodes) = kind else { return }
        kind = .unset
        nodes.append(child)
        kind = .array(nodes)
    }

    static func leaf(_ value: JSONValue) -> EncodingNode {
        let node = EncodingNode()
        node.kind = .value(value)
        return node
    }
}

private func number<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

private func floating<T: BinaryFloatingPoint & LosslessStringConvertible>(_ value: T, _ path: [any CodingKey]) throws -> JSONValue {
    guard value.isFinite else {
        throw EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: "JSON has no \(value)"))
    }
    return .number(String(value))
}

/// The primitive encode overloads that UnkeyedEncodingContainer and
/// SingleValueEncodingContainer both require, written once.
private protocol PrimitiveSink {
    func put(_ value: JSONValue)
    var path: [any CodingKey] { get }
}

extension PrimitiveSink {
    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(try floating(value, path)) }
    mutating func encode(_ value: Float) throws { put(try floating(value, path)) }
    mutating func encode(_ value: Int) throws { put(number(value)) }
    mutating func encode(_ value: Int8) throws { put(number(value)) }
    mutating func encode(_ value: Int16) throws { put(number(value)) }
    mutating func encode(_ value: Int32) throws { put(number(value)) }
    mutating func encode(_ value: Int64) throws { put(number(value)) }
    mutating func encode(_ value: UInt) throws { put(number(value)) }
    mutating func encode(_ value: UInt8) throws { put(number(value)) }
    mutating func encode(_ value: UInt16) throws { put(number(value)) }
    mutating func encode(_ value: UInt32) throws { put(number(value)) }
    mutating func encode(_ value: UInt64) throws { put(number(value)) }
}

struct ValueEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(KeyedEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.makeArray()
        return UnkeyedEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleEncoder(node: node, codingPath: codingPath)
    }
}

private struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func put(_ value: JSONValue, _ key: Key) { node.set(key.stringValue, .leaf(value)) }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(try floating(value, codingPath + [key]), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(try floating(value, codingPath + [key]), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(number(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(number(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(number(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(number(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(number(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(number(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(number(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(number(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(number(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(number(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let child = EncodingNode()
        try value.encode(to: ValueEncoder(node: child, codingPath: codingPath + [key]))
        node.set(key.stringValue, child)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode()
        node.set(key.stringValue, child)
        return ValueEncoder(node: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = EncodingNode()
        node.set(key.stringValue, child)
        return ValueEncoder(node: child, codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(node: node, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = EncodingNode()
        node.set(key.stringValue, child)
        return ValueEncoder(node: child, codingPath: codingPath + [key])
    }
}

private struct UnkeyedEncoder: UnkeyedEncodingContainer, PrimitiveSink {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int {
        if case .array(let nodes) = node.kind { return nodes.count }
        return 0
    }

    func put(_ value: JSONValue) { node.append(.leaf(value)) }
    var path: [any CodingKey] { codingPath + [AnyKey(intValue: count)] }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let child = EncodingNode()
        try value.encode(to: ValueEncoder(node: child, codingPath: path))
        node.append(child)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode()
        let childPath = path
        node.append(child)
        return ValueEncoder(node: child, codingPath: childPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = EncodingNode()
        let childPath = path
        node.append(child)
        return ValueEncoder(node: child, codingPath: childPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let child = EncodingNode()
        let childPath = path
        node.append(child)
        return ValueEncoder(node: child, codingPath: childPath)
    }
}

private struct SingleEncoder: SingleValueEncodingContainer, PrimitiveSink {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    func put(_ value: JSONValue) { node.kind = .value(value) }
    var path: [any CodingKey] { codingPath }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: ValueEncoder(node: node, codingPath: codingPath))
    }
}

/// Serialises a JSONValue.
struct JSONWriter {
    let pretty: Bool

    func write(_ value: JSONValue, into output: inout [UInt8], indent: Int) {
        switch value {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .number(let text): output += Array(text.utf8)
        case .string(let text): writeString(text, into: &output)
        case .array(let elements):
            if elements.isEmpty { output += [0x5B, 0x5D]; return }
            output.append(0x5B)
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(0x2C) }
                newline(&output, indent + 1)
                write(element, into: &output, indent: indent + 1)
            }
            newline(&output, indent)
            output.append(0x5D)
        case .object(let object):
            if object.keys.isEmpty { output += [0x7B, 0x7D]; return }
            output.append(0x7B)
            for (index, key) in object.keys.enumerated() {
                if index > 0 { output.append(0x2C) }
                newline(&output, indent + 1)
                writeString(key, into: &output)
                output.append(0x3A)
                if pretty { output.append(0x20) }
                write(object[key]!, into: &output, indent: indent + 1)
            }
            newline(&output, indent)
            output.append(0x7D)
        }
    }

    private func newline(_ output: inout [UInt8], _ indent: Int) {
        guard pretty else { return }
        output.append(0x0A)
        output += [UInt8](repeating: 0x20, count: indent * 2)
    }

    private func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: output += [0x5C, 0x22]
            case 0x5C: output += [0x5C, 0x5C]
            case 0x0A: output += [0x5C, 0x6E]
            case 0x0D: output += [0x5C, 0x72]
            case 0x09: output += [0x5C, 0x74]
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
        output.append(0x22)
    }
}
