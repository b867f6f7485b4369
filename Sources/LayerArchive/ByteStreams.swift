#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import CZlib
import CZstd
import ImageSpec

/// A pull-style stream of bytes: layers are read through a chain of these (file ->
/// decompressor -> digest -> tar reader) so that memory stays flat whatever the layer size.
public protocol ByteSource {
    /// Fills up to `buffer.count` bytes; returns 0 at the end of the stream.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int
}

extension ByteSource {
    /// Reads the stream to its end in 1 MiB chunks, handing each to `body`.
    public mutating func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try read(into: buffer)
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}

/// Reads a file descriptor.
public struct FileSource: ByteSource {
    public let fd: Int32
    public let path: String

    public init(fd: Int32, path: String = "") {
        self.fd = fd
        self.path = path
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw .system(SysError("read", path: path)) }
        }
    }
}

/// Bytes in memory.
public struct MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        let n = min(buffer.count, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}

/// Passes bytes through while hashing them: a layer's diff id is the digest of its
/// uncompressed stream, checked against the image config after the layer is applied.
public struct DigestingSource<Inner: ByteSource>: ByteSource {
    private var inner: Inner
    private var hasher = DigestHasher(.sha256)
    public private(set) var count: Int64 = 0

    public init(_ inner: Inner) { self.inner = inner }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        let n = try inner.read(into: buffer)
        if n > 0 {
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            count += Int64(n)
        }
        return n
    }

    /// Reads the rest of the stream (tar's trailing padding) and returns the digest.
    public mutating func drainAndFinalize() throws(ArchiveError) -> Digest {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { scratch.deallocate() }
        while try read(into: scratch) > 0 {}
        return hasher.finalize()
    }
}

/// gzip decompression with zlib; handles multi-member files (pigz, concatenated gzip).
public final class GzipSource<Inner: ByteSource>: ByteSource {
    private var inner: Inner
    private var stream = z_stream()
    private var input: UnsafeMutableRawBufferPointer
    private var finished = false
    private var initialized = false

    public init(_ inner: Inner) throws(ArchiveError) {
        self.inner = inner
        input = .allocate(byteCount: 1 << 17, alignment: 16)
        let status = inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            input.deallocate()
            throw .decompression("zlib initialisation failed (\(status))")
        }
        initialized = true
    }

    deinit {
        if initialized { inflateEnd(&stream) }
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
        while stream.avail_out > 0 {
            if stream.avail_in == 0 {
                let n = try inner.read(into: input)
                if n == 0 {
                    if stream.total_out == 0 && stream.total_in == 0 { throw .decompression("empty gzip stream") }
                    throw .decompression("gzip stream is truncated")
                }
                stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = UInt32(n)
            }
            let status = inflate(&stream, Z_NO_FLUSH)
            if status == Z_STREAM_END {
                // Another gzip member may follow.
                if stream.avail_in == 0 {
                    let n = try inner.read(into: input)
                    if n == 0 { finished = true; break }
                    stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = UInt32(n)
                }
                inflateReset(&stream)
                continue
            }
            if status != Z_OK && status != Z_BUF_ERROR {
                let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw .decompression("gzip: \(message)")
            }
        }
        return buffer.count - Int(stream.avail_out)
    }
}

/// zstd decompression with libzstd's streaming API.
public final class ZstdSource<Inner: ByteSource>: ByteSource {
    private var inner: Inner
    private let context: OpaquePointer
    private var input: UnsafeMutableRawBufferPointer
    private var inBuffer = ZSTD_inBuffer()
    private var sawInput = false
    private var endOfFrame = true
    private var finished = false

    public init(_ inner: Inner) throws(ArchiveError) {
        self.inner = inner
        guard let context = ZSTD_createDStream() else { throw .decompression("zstd initialisation failed") }
        self.context = context
        input = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
        ZSTD_initDStream(context)
        inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: 0, pos: 0)
    }

    deinit {
        ZSTD_freeDStream(context)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while out.pos == 0 {
            if inBuffer.pos == inBuffer.size {
                let n = try inner.read(into: input)
                if n == 0 {
                    if !sawInput { throw .decompression("empty zstd stream") }
                    if !endOfFrame { throw .decompression("zstd stream is truncated") }
                    finished = true
                    return 0
                }
                sawInput = true
                inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: n, pos: 0)
            }
            let hint = ZSTD_decompressStream(context, &out, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                throw .decompression("zstd: \(String(cString: ZSTD_getErrorName(hint)))")
            }
            endOfFrame = hint == 0
        }
        return out.pos
    }
}

/// A layer's uncompressed stream, whichever compression it had.
public enum DecompressedStream: ByteSource {
    case plain(FileSource)
    case gzip(GzipSource<FileSource>)
    case zstd(ZstdSource<FileSource>)

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        switch self {
        case .plain(var source):
            let n = try source.read(into: buffer)
            self = .plain(source)
            return n
        case .gzip(let source): return try source.read(into: buffer)
        case .zstd(let source): return try source.read(into: buffer)
        }
    }
}

/// Opens the right decompressor for a layer's compression.
public func decompressing(_ source: FileSource, _ compression: LayerCompression) throws(ArchiveError) -> DecompressedStream {
    switch compression {
    case .none: return .plain(source)
    case .gzip: return .gzip(try GzipSource(source))
    case .zstd: return .zstd(try ZstdSource(source))
    }
}

/// Sniffs compression from magic bytes (docker-archive layers are not labelled).
public func detectCompression(fd: Int32) -> LayerCompression {
    var magic = [UInt8](repeating: 0, count: 4)
    let n = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4, 0) }
    if n >= 2, magic[0] == 0x1f, magic[1] == 0x8b { return .gzip }
    if n == 4, magic == [0x28, 0xb5, 0x2f, 0xfd] { return .zstd }
    return .none
}
