/// An RPM header as the rpmdb stores it (the "header blob": no lead and no 8-byte header
/// magic): a big-endian count of index entries and of data bytes, the index entries (tag,
/// type, offset into the data, count; 16 bytes each), then the data. Only the tags a
/// catalog needs are read, every offset and count checked against the blob.
public struct RPMHeader: Sendable {
    public enum Tag: UInt32 {
        case name = 1000, version = 1001, release = 1002, epoch = 1003, license = 1014, vendor = 1011
        case arch = 1022, sourceRPM = 1044, oldFileNames = 1027
        case dirIndexes = 1116, baseNames = 1117, dirNames = 1118
    }

    enum DataType: UInt32 {
        case null = 0, char = 1, int8 = 2, int16 = 3, int32 = 4, int64 = 5
        case string = 6, binary = 7, stringArray = 8, i18nString = 9
    }

    struct Entry {
        let type: DataType
        let offset: Int
        let count: Int
    }

    private let data: ArraySlice<UInt8>
    private let entries: [UInt32: Entry]

    /// Parses a header blob; the error names the entry and what is out of range.
    public init(blob: [UInt8]) throws(RPMHeaderError) {
        guard blob.count >= 8 else { throw .truncated("header of \(blob.count) bytes is shorter than its 8-byte preamble") }
        let indexCount = Int(RPMHeader.uint32(blob, 0))
        let dataLength = Int(RPMHeader.uint32(blob, 4))
        // rpm's own limits: 0x0000ffff entries, 256 MiB of data.
        guard indexCount > 0, indexCount <= 0xFFFF, dataLength <= 256 << 20 else {
            throw .invalid("\(indexCount) index entries and \(dataLength) data bytes")
        }
        let dataStart = 8 + indexCount * 16
        guard blob.count >= dataStart + dataLength else {
            throw .truncated("\(indexCount) entries and \(dataLength) data bytes need \(dataStart + dataLength) bytes, the blob has \(blob.count)")
        }
        data = blob[dataStart..<(dataStart + dataLength)]
        var entries: [UInt32: Entry] = [:]
        for index in 0..<indexCount {
            let base = 8 + index * 16
            let tag = RPMHeader.uint32(blob, base)
            let rawType = RPMHeader.uint32(blob, base + 4)
            let offset = Int(RPMHeader.uint32(blob, base + 8))
            let count = Int(RPMHeader.uint32(blob, base + 12))
            guard Tag(rawValue: tag) != nil else { continue }
            guard let type = DataType(rawValue: rawType) else { throw .invalid("tag \(tag): unknown data type \(rawType)") }
            guard offset <= dataLength, count <= dataLength else {
                throw .invalid("tag \(tag): offset \(offset) or count \(count) beyond \(dataLength) data bytes")
            }
            entries[tag] = Entry(type: type, offset: offset, count: count)
        }
        self.entries = entries
    }

    /// A STRING or the first of a STRING_ARRAY / I18NSTRING (the C locale's).
    public func string(_ tag: Tag) throws(RPMHeaderError) -> String? {
        guard let entry = entries[tag.rawValue] else { return nil }
        switch entry.type {
        case .string, .i18nString, .stringArray: return try strings(entry, tag: tag, limit: 1).first
        default: throw .invalid("tag \(tag.rawValue) (\(tag)): expected a string, found type \(entry.type)")
        }
    }

    public func stringArray(_ tag: Tag) throws(RPMHeaderError) -> [String]? {
        guard let entry = entries[tag.rawValue] else { return nil }
        guard entry.type == .stringArray || entry.type == .i18nString else {
            throw .invalid("tag \(tag.rawValue) (\(tag)): expected a string array, found type \(entry.type)")
        }
        return try strings(entry, tag: tag, limit: entry.count)
    }

    public func int32Array(_ tag: Tag) throws(RPMHeaderError) -> [UInt32]? {
        guard let entry = entries[tag.rawValue] else { return nil }
        guard entry.type == .int32 else { throw .invalid("tag \(tag.rawValue) (\(tag)): expected INT32, found type \(entry.type)") }
        guard entry.offset + entry.count * 4 <= data.count else {
            throw .invalid("tag \(tag.rawValue) (\(tag)): \(entry.count) INT32 values at \(entry.offset) run past \(data.count) data bytes")
        }
        let start = data.startIndex + entry.offset
        return (0..<entry.count).map { RPMHeader.uint32(data, start + $0 * 4) }
    }

    private func strings(_ entry: Entry, tag: Tag, limit: Int) throws(RPMHeaderError) -> [String] {
        var result: [String] = []
        var position = data.startIndex + entry.offset
        let wanted = min(limit, entry.type == .string ? 1 : entry.count)
        while result.count < wanted {
            guard let end = data[position...].firstIndex(of: 0) else {
                throw .invalid("tag \(tag.rawValue) (\(tag)): string \(result.count) is not terminated inside the data")
            }
            result.append(String(decoding: data[position..<end], as: UTF8.self))
            position = end + 1
        }
        return result
    }

    static func uint32<C: Collection<UInt8>>(_ bytes: C, _ offset: C.Index) -> UInt32 where C.Index == Int {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}

/// Why an RPM header blob cannot be read.
public enum RPMHeaderError: Error, Sendable, CustomStringConvertible {
    case truncated(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .truncated(let detail): return "truncated RPM header: \(detail)"
        case .invalid(let detail): return "invalid RPM header: \(detail)"
        }
    }
}
