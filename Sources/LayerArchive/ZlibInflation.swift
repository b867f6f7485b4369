#if canImport(Glibc)
import Glibc
#endif
import CZlib

/// One zlib stream (RFC 1950: header, deflate data, Adler-32) inflated in memory when its
/// size is not known beforehand, as in the compressed dependency list `cargo auditable`
/// links into Rust executables. The output is bounded, so a small hostile input cannot
/// expand without limit.
public enum ZlibInflation {
    /// The inflated bytes of `input`, which must hold exactly one complete zlib stream
    /// (trailing bytes after its end are ignored, as a section's padding would be).
    public static func inflate(_ input: [UInt8], limit: Int, name: String) throws(ArchiveError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .decompression("\(name): inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var source = input
        var status: Int32 = Z_OK
        let consumed: Bool = source.withUnsafeMutableBufferPointer { sourceBuffer in
            stream.next_in = sourceBuffer.baseAddress
            stream.avail_in = uInt(sourceBuffer.count)
            while status == Z_OK {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = inflateStep(&stream)
                    return target.count - Int(stream.avail_out)
                }
                output += chunk[0..<produced]
                if output.count > limit { return false }
                if status == Z_BUF_ERROR && stream.avail_in == 0 { break }
            }
            return true
        }
        guard consumed else { throw .decompression("\(name): more than \(limit) bytes once inflated") }
        guard status == Z_STREAM_END else {
            throw .decompression(status == Z_BUF_ERROR || status == Z_OK ? "\(name): the zlib stream is cut short"
                                                                         : "\(name): not a valid zlib stream (\(status))")
        }
        return output
    }
}

/// One call of zlib's `inflate` (named apart from `ZlibInflation.inflate`).
@inline(__always)
private func inflateStep(_ stream: UnsafeMutablePointer<z_stream>) -> Int32 {
    CZlib.inflate(stream, Z_NO_FLUSH)
}
