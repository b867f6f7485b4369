#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import CZlib
import CZstd
import ImageSpec

/// A push-style byte stream: tar archives and compressed layers are written through a
/// chain of these (tar writer -> digest -> gzip -> digest -> file).
public protocol ByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError)
    /// Flushes buffered state (the gzip trailer); the sink is done afterwards.
    mutating func finish() throws(ArchiveError)
}

extension ByteSink {
    public mutating func write(_ bytes: [UInt8]) throws(ArchiveError) {
        var copy = bytes
        let count = copy.count
        try copy.withUnsafeMutableBufferPointer { (pointer) throws(ArchiveError) in
            try write(UnsafeRawBufferPointer(start: pointer.baseAddress, count: count))
        }
    }
}

/// Writes to a file descriptor.
public struct FileSink: ByteSink {
    public let fd: Int32
    public let path: String
    public init(fd: Int32, path: String = "") {
        self.fd = fd
        self.path = path
    }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        do { try Files.writeAll(fd: fd, buffer: bytes, path: path) } catch { throw .system(error) }
    }

    public mutating func finish() throws(ArchiveError) {}
}

/// Hashes and counts what passes through (diff ids, blob digests).
public final class DigestingSink<Inner: ByteSink>: ByteSink {
    public private(set) var inner: Inner
    private var hasher = DigestHasher(.sha256)
    public private(set) var count: Int64 = 0

    public init(_ inner: Inner) { self.inner = inner }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        hasher.update(bytes)
        count += Int64(bytes.count)
        try inner.write(bytes)
    }

    public func finish() throws(ArchiveError) { try inner.finish() }
    public var digest: Digest { hasher.finalize() }
}

/// gzip compression with zlib.
public final class GzipSink<Inner: ByteSink>: ByteSink {
    public private(set) var inner: Inner
    private var stream = z_stream()
    private let output: UnsafeMutableRawBufferPointer
    private var initialized = false

    public init(_ inner: Inner, level: Int32 = 1) throws(ArchiveError) {
        self.inner = inner
        output = .allocate(byteCount: 1 << 17, alignment: 16)
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            output.deallocate()
            throw .decompression("zlib deflate initialisation failed (\(status))")
        }
        initialized = true
    }

    deinit {
        if initialized { deflateEnd(&stream) }
        output.deallocate()
    }

    private func pump(_ flush: Int32) throws(ArchiveError) {
        repeat {
            stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(output.count)
            let status = deflate(&stream, flush)
            if status == Z_STREAM_ERROR { throw .decompression("gzip compression failed") }
            let produced = output.count - Int(stream.avail_out)
            if produced > 0 { try inner.write(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            if flush == Z_FINISH, status == Z_STREAM_END { return }
        } while stream.avail_out == 0 || flush == Z_FINISH
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        guard bytes.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(bytes.count)
        try pump(Z_NO_FLUSH)
    }

    public func finish() throws(ArchiveError) {
        stream.next_in = nil
        stream.avail_in = 0
        try pump(Z_FINISH)
        try inner.finish()
    }
}

/// zstd compression with libzstd (level 3, its default): `--compression zstd` layers.
public final class ZstdSink<Inner: ByteSink>: ByteSink {
    public private(set) var inner: Inner
    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer

    public init(_ inner: Inner, level: Int32 = 3) throws(ArchiveError) {
        self.inner = inner
        guard let context = ZSTD_createCCtx() else { throw .decompression("zstd compression initialisation failed") }
        self.context = context
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    private func pump(_ bytes: UnsafeRawBufferPointer, _ mode: ZSTD_EndDirective) throws(ArchiveError) {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while true {
            var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &out, &input, mode)
            if ZSTD_isError(remaining) != 0 {
                throw .decompression("zstd compression failed: \(String(cString: ZSTD_getErrorName(remaining)))")
            }
            if out.pos > 0 { try inner.write(UnsafeRawBufferPointer(rebasing: output[0..<out.pos])) }
            let done = mode == ZSTD_e_end ? remaining == 0 : input.pos == input.size
            if done { return }
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        guard bytes.count > 0 else { return }
        try pump(bytes, ZSTD_e_continue)
    }

    public func finish() throws(ArchiveError) {
        try pump(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end)
        try inner.finish()
    }
}
