/// One member of a tar archive, with PAX and GNU long-name extensions already applied.
public struct TarEntry: Sendable {
    public enum Kind: Sendable, Equatable {
        case file, hardLink, symbolicLink, characterDevice, blockDevice, directory, fifo
    }
    public var path: String
    public var kind: Kind
    public var size: Int64
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var modificationTime: Int64
    public var modificationNanoseconds: Int = 0
    public var linkTarget: String
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    public var xattrs: [(String, [UInt8])] = []

    public init(path: String, kind: Kind, size: Int64 = 0, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0,
                modificationTime: Int64 = 0, linkTarget: String = "", deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.modificationTime = modificationTime
        self.linkTarget = linkTarget
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
    }
}

/// Reads tar archives (ustar, PAX, GNU long names) from a byte stream, one entry at a time;
/// the caller reads each entry's content before asking for the next.
public struct TarReader<Source: ByteSource> {
    private var source: Source
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    private var buffer: UnsafeMutableRawBufferPointer
    private var bufferStart = 0
    private var bufferEnd = 0
    private var globalPAX: [String: [UInt8]] = [:]

    public init(_ source: Source) {
        self.source = source
        buffer = .allocate(byteCount: 1 << 17, alignment: 16)
    }

    /// Frees the read buffer; call when done.
    public func close() { buffer.deallocate() }

    /// The underlying stream (to drain and hash it after the end marker).
    public var underlying: Source { source }
    public mutating func takeSource() -> Source { source }

    private mutating func fill() throws(ArchiveError) -> Bool {
        if bufferStart < bufferEnd { return true }
        let n = try source.read(into: buffer)
        bufferStart = 0
        bufferEnd = n
        return n > 0
    }

    /// Reads exactly `count` bytes, or throws on a truncated archive.
    private mutating func readExactly(_ count: Int) throws(ArchiveError) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            guard try fill() else { throw .corrupt("unexpected end of archive") }
            let n = min(count - out.count, bufferEnd - bufferStart)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[bufferStart..<(bufferStart + n)]))
            bufferStart += n
        }
        return out
    }

    private mutating func skip(_ count: Int64) throws(ArchiveError) {
        var left = count
        while left > 0 {
            guard try fill() else { throw .corrupt("unexpected end of archive") }
            let n = Int(min(left, Int64(bufferEnd - bufferStart)))
            bufferStart += n
            left -= Int64(n)
        }
    }

    /// Reads up to `into.count` bytes of the current entry's content; 0 at its end.
    public mutating func readContent(into target: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        guard remaining > 0 else { return 0 }
        let wanted = Int(min(Int64(target.count), remaining))
        if bufferStart == bufferEnd, wanted >= buffer.count {
            // Large reads go straight to the caller's buffer.
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: target[0..<wanted]))
            guard n > 0 else { throw .corrupt("unexpected end of archive inside an entry") }
            remaining -= Int64(n)
            return n
        }
        guard try fill() else { throw .corrupt("unexpected end of archive inside an entry") }
        let n = min(wanted, bufferEnd - bufferStart)
        target.baseAddress!.copyMemory(from: buffer.baseAddress! + bufferStart, byteCount: n)
        bufferStart += n
        remaining -= Int64(n)
        return n
    }

    /// Moves to the next entry (skipping any unread content); nil at the end of the archive.
    public mutating func next() throws(ArchiveError) -> TarEntry? {
        try skip(remaining + padding)
        remaining = 0
        padding = 0
        var pax: [String: [UInt8]] = globalPAX
        var longName: String?
        var longLink: String?
        while true {
            guard try fill() else {
                // A stream that ends without the two zero blocks is accepted if it ends
                // cleanly on a header boundary (some tools omit them).
                return nil
            }
            let header = try readExactly(512)
            if header.allSatisfy({ $0 == 0 }) { return nil }
            guard TarReader.checksumMatches(header) else {
                throw .corrupt("header checksum mismatch (not a tar archive, or corrupted)")
            }
            let type = header[156]
            let size = try TarReader.number(header, 124, 12, field: "size")
            guard size >= 0 else { throw .corrupt("negative entry size") }
            let pad = (512 - size % 512) % 512
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                guard size <= 1 << 20 else { throw .corrupt("PAX header of \(size) bytes is too large") }
                let records = try TarReader.parsePAX(try readExactly(Int(size)))
                try skip(pad)
                if type == UInt8(ascii: "g") {
                    globalPAX.merge(records) { $1 }
                    pax.merge(records) { $1 }
                } else {
                    pax.merge(records) { $1 }
                }
                continue
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                guard size <= 1 << 16 else { throw .corrupt("GNU long name of \(size) bytes is too large") }
                var name = try readExactly(Int(size))
                try skip(pad)
                if let zero = name.firstIndex(of: 0) { name.removeSubrange(zero...) }
                if type == UInt8(ascii: "L") { longName = String(decoding: name, as: UTF8.self) } else {
                    longLink = String(decoding: name, as: UTF8.self)
                }
                continue
            default:
                break
            }
            var path = TarReader.string(header, 0, 100)
            let magic = Array(header[257..<263])
            if magic == Array("ustar\0".utf8) || magic == Array("ustar ".utf8) {
                let prefix = TarReader.string(header, 345, magic == Array("ustar\0".utf8) ? 155 : 131)
                if !prefix.isEmpty, magic == Array("ustar\0".utf8) { path = prefix + "/" + path }
            }
            if let longName { path = longName }
            var entry = TarEntry(
                path: path, kind: .file, size: size,
                mode: UInt32(truncatingIfNeeded: try TarReader.number(header, 100, 8, field: "mode")),
                uid: UInt32(truncatingIfNeeded: try TarReader.number(header, 108, 8, field: "uid")),
                gid: UInt32(truncatingIfNeeded: try TarReader.number(header, 116, 8, field: "gid")),
                modificationTime: try TarReader.number(header, 136, 12, field: "mtime"),
                linkTarget: longLink ?? TarReader.string(header, 157, 100),
                deviceMajor: UInt32(truncatingIfNeeded: (try? TarReader.number(header, 329, 8, field: "devmajor")) ?? 0),
                deviceMinor: UInt32(truncatingIfNeeded: (try? TarReader.number(header, 337, 8, field: "devminor")) ?? 0))
            try TarReader.applyPAX(pax, to: &entry)
            // The content and its padding must be skippable without overflowing.
            guard entry.size <= Int64.max - 511 else { throw .corrupt("entry size \(entry.size) is too large") }
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
                entry.kind = .file
                if entry.path.hasSuffix("/") { entry.kind = .directory }
            case UInt8(ascii: "1"): entry.kind = .hardLink
            case UInt8(ascii: "2"): entry.kind = .symbolicLink
            case UInt8(ascii: "3"): entry.kind = .characterDevice
            case UInt8(ascii: "4"): entry.kind = .blockDevice
            case UInt8(ascii: "5"): entry.kind = .directory
            case UInt8(ascii: "6"): entry.kind = .fifo
            default: throw .unsupportedEntry(path: entry.path, type: type)
            }
            if entry.kind == .file {
                remaining = entry.size
                padding = (512 - entry.size % 512) % 512
            } else {
                // Only regular files have content; anything else is skipped with its padding.
                remaining = 0
                padding = entry.size + (512 - entry.size % 512) % 512
                if entry.size == 0 { padding = 0 }
                entry.size = 0
            }
            return entry
        }
    }

    static func checksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = try? number(header, 148, 8, field: "checksum") else { return false }
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (i, byte) in header.enumerated() {
            let value = (148..<156).contains(i) ? UInt8(ascii: " ") : byte
            unsigned += Int64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        return stored == unsigned || stored == signed
    }

    static func string(_ header: [UInt8], _ offset: Int, _ length: Int) -> String {
        let field = header[offset..<(offset + length)]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[..<end], as: UTF8.self)
    }

    /// Octal (space/NUL padded) or GNU base-256 numbers.
    static func number(_ header: [UInt8], _ offset: Int, _ length: Int, field: String) throws(ArchiveError) -> Int64 {
        let bytes = header[offset..<(offset + length)]
        if let first = bytes.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x7f)
            for byte in bytes.dropFirst() {
                guard value < (Int64.max >> 8) else { throw .corrupt("\(field) field overflows") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var seenDigit = false
        for byte in bytes {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if seenDigit { break } else { continue }
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7") else {
                throw .corrupt("\(field) field is not an octal number")
            }
            seenDigit = true
            guard value < (Int64.max >> 3) else { throw .corrupt("\(field) field overflows") }
            value = value * 8 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// PAX records: "LEN key=value\n".
    static func parsePAX(_ bytes: [UInt8]) throws(ArchiveError) -> [String: [UInt8]] {
        var records: [String: [UInt8]] = [:]
        var index = 0
        while index < bytes.count {
            guard let space = bytes[index...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: bytes[index..<space], as: UTF8.self)),
                  length > 0, length <= bytes.count - index, bytes[index + length - 1] == UInt8(ascii: "\n"),
                  let equals = bytes[(space + 1)..<(index + length)].firstIndex(of: UInt8(ascii: "=")) else {
                throw .corrupt("malformed PAX record")
            }
            let key = String(decoding: bytes[(space + 1)..<equals], as: UTF8.self)
            records[key] = Array(bytes[(equals + 1)..<(index + length - 1)])
            index += length
        }
        return records
    }

    static func applyPAX(_ records: [String: [UInt8]], to entry: inout TarEntry) throws(ArchiveError) {
        func text(_ key: String) -> String? { records[key].map { String(decoding: $0, as: UTF8.self) } }
        if let path = text("path") { entry.path = path }
        if let link = text("linkpath") { entry.linkTarget = link }
        if let size = text("size") {
            guard let value = Int64(size), value >= 0 else { throw .corrupt("PAX size \"\(size)\" is not a number") }
            entry.size = value
        }
        if let uid = text("uid"), let value = UInt32(uid) { entry.uid = value }
        if let gid = text("gid"), let value = UInt32(gid) { entry.gid = value }
        if let mtime = text("mtime") {
            // "SECONDS[.FRACTION]"; an unreadable value leaves the header's time.
            let parts = mtime.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            if let seconds = Int64(parts[0]) { entry.modificationTime = seconds }
            if parts.count == 2, parts[1].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                let digits = String(parts[1].prefix(9))
                let padded = digits + String(repeating: "0", count: 9 - digits.count)
                entry.modificationNanoseconds = Int(padded) ?? 0
            }
        }
        for (key, value) in records.sorted(by: { $0.key < $1.key }) where key.hasPrefix("SCHILY.xattr.") {
            entry.xattrs.append((String(key.dropFirst("SCHILY.xattr.".count)), value))
        }
    }
}
