#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import CZlib
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
