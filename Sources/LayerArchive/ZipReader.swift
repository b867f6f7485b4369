#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import CZlib

/// A ZIP archive read from its central directory (ZIP64 included): entry names and their
/// contents, stored or deflated, each checked against its CRC-32. For osv.dev's
/// `all.zip` exports and Java archives. Names are only names here: the reader never
/// writes anything, so a hostile `../` name has nowhere to go.
public struct ZipReader: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let compressedSize: Int
        public let size: Int
        public let method: UInt16
        public let crc: UInt32
        let localHeaderOffset: Int
        public var isDirectory: Bool { name.hasSuffix("/") }
    }

    public let entries: [Entry]
    let bytes: [UInt8]
    /// Entries larger than this are refused rather than inflated (a zip bomb).
    public static let maximumEntrySize = 1 << 30

    /// Reads the whole archive at `path` (archives of advisories are tens of megabytes).
    public init(path: String) throws(ArchiveError) {
        do {
            try self.init(bytes: try Files.readBytes(path))
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw .system(error as? SysError ?? SysError("read", path: path))
        }
    }

    public init(bytes: [UInt8]) throws(ArchiveError) {
        self.bytes = bytes
        entries = try ZipReader.centralDirectory(bytes)
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }
    static func u64(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(u32(b, at)) | UInt64(u32(b, at + 4)) << 32 }

    static func centralDirectory(_ b: [UInt8]) throws(ArchiveError) -> [Entry] {
        // The end of central directory record: its signature within the last 64 KiB + 22 bytes.
        guard b.count >= 22 else { throw .corrupt("not a zip archive: \(b.count) bytes") }
        var end = -1
        var index = b.count - 22
        while index >= max(0, b.count - 22 - 65535) {
            if u32(b, index) == 0x0605_4B50 { end = index; break }
            index -= 1
        }
        guard end >= 0 else { throw .corrupt("not a zip archive: no end of central directory record") }
        var count = Int(u16(b, end + 10))
        var offset = Int(u32(b, end + 16))
        // ZIP64: a locator just before the record points at the ZIP64 end record.
        if end >= 20, u32(b, end - 20) == 0x0706_4B50 {
            let record = Int(clamping: u64(b, end - 20 + 8))
            guard record + 56 <= b.count, u32(b, record) == 0x0606_4B50 else { throw .corrupt("broken ZIP64 end record") }
            count = Int(clamping: u64(b, record + 32))
            offset = Int(clamping: u64(b, record + 48))
        }
        var entries: [Entry] = []
        entries.reserveCapacity(min(count, 1 << 20))
        var at = offset
        for _ in 0..<count {
            guard at + 46 <= b.count, u32(b, at) == 0x0201_4B50 else { throw .corrupt("broken central directory entry at \(at)") }
            let method = u16(b, at + 10)
            let crc = u32(b, at + 16)
            var compressed = UInt64(u32(b, at + 20))
            var size = UInt64(u32(b, at + 24))
            let nameLength = Int(u16(b, at + 28)), extraLength = Int(u16(b, at + 30)), commentLength = Int(u16(b, at + 32))
            var local = UInt64(u32(b, at + 42))
            guard at + 46 + nameLength + extraLength + commentLength <= b.count else { throw .corrupt("central directory entry past the end") }
            let name = String(decoding: b[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            // The ZIP64 extra field holds, in order, the values that are 0xFFFFFFFF above.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let tag = u16(b, extra), length = Int(u16(b, extra + 2))
                if tag == 0x0001 {
                    var field = extra + 4
                    if size == 0xFFFF_FFFF, field + 8 <= extraEnd { size = u64(b, field); field += 8 }
                    if compressed == 0xFFFF_FFFF, field + 8 <= extraEnd { compressed = u64(b, field); field += 8 }
                    if local == 0xFFFF_FFFF, field + 8 <= extraEnd { local = u64(b, field) }
                }
                extra += 4 + length
            }
            entries.append(Entry(name: name, compressedSize: Int(clamping: compressed), size: Int(clamping: size),
                                 method: method, crc: crc, localHeaderOffset: Int(clamping: local)))
            at += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }

    /// The entry's contents, inflated and checked.
    public func contents(of entry: Entry) throws(ArchiveError) -> [UInt8] {
        let at = entry.localHeaderOffset
        guard at + 30 <= bytes.count, ZipReader.u32(bytes, at) == 0x0403_4B50 else {
            throw .corrupt("\(entry.name): broken local header")
        }
        let start = at + 30 + Int(ZipReader.u16(bytes, at + 26)) + Int(ZipReader.u16(bytes, at + 28))
        guard start + entry.compressedSize <= bytes.count else { throw .corrupt("\(entry.name): data past the end of the archive") }
        guard entry.size <= ZipReader.maximumEntrySize else {
            throw .corrupt("\(entry.name): \(entry.size) bytes uncompressed is more than the \(ZipReader.maximumEntrySize) allowed")
        }
        let data: [UInt8]
        switch entry.method {
        case 0:
            data = Array(bytes[start..<(start + entry.compressedSize)])
        case 8:
            data = try inflateRaw(bytes[start..<(start + entry.compressedSize)], size: entry.size, name: entry.name)
        default:
            throw .corrupt("\(entry.name): compression method \(entry.method) is not supported (stored and deflate are)")
        }
        guard data.count == entry.size else { throw .corrupt("\(entry.name): \(data.count) bytes, the directory says \(entry.size)") }
        let crc = data.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        guard crc == entry.crc else { throw .corrupt("\(entry.name): CRC-32 mismatch") }
        return data
    }

    func inflateRaw(_ input: ArraySlice<UInt8>, size: Int, name: String) throws(ArchiveError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .decompression("\(name): inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: size)
        var input = Array(input)
        let status: Int32 = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw .decompression("\(name): inflate ended with \(status)") }
        return output
    }
}
