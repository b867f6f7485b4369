#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import CZlib

/// One SPDY/3.1 frame, as far as Kubernetes' streaming protocols use them.
public enum SPDYFrame: Sendable, Equatable {
    case synStream(streamID: UInt32, headers: [String: String], fin: Bool)
    case synReply(streamID: UInt32)
    case data(streamID: UInt32, bytes: [UInt8], fin: Bool)
    case rstStream(streamID: UInt32, status: UInt32)
    case ping(id: UInt32)
    case goAway
    /// SETTINGS, WINDOW_UPDATE, HEADERS and others this server has no use for.
    case ignored
}

/// What went wrong on a SPDY connection.
public struct SPDYError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Reads and writes SPDY/3.1 frames on a connected socket (blocking), with the two zlib
/// contexts of the header blocks (one per direction, for the whole connection, primed
/// with the SPDY dictionary). The peers here (client-go's spdystream) do no flow control,
/// so neither does this.
///
/// The framer is a module of its own (`SPDY`, on zlib only) so that this parser of bytes
/// from the network can be tested and fuzzed without the CRI server's gRPC dependencies.
public final class SPDYFramer {
    public let fd: Int32
    private var inflater = z_stream()
    private var deflater = z_stream()
    private var buffer: [UInt8] = []

    public init(fd: Int32, pending: [UInt8]) throws(SPDYError) {
        self.fd = fd
        buffer = pending
        guard inflateInit_(&inflater, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK,
              deflateInit_(&deflater, Z_DEFAULT_COMPRESSION, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw SPDYError(description: "zlib initialisation failed")
        }
        let dictionary = SPDYDictionary.bytes
        let status = dictionary.withUnsafeBufferPointer { deflateSetDictionary(&deflater, $0.baseAddress, uInt($0.count)) }
        guard status == Z_OK else { throw SPDYError(description: "zlib dictionary rejected") }
    }

    deinit {
        inflateEnd(&inflater)
        deflateEnd(&deflater)
    }

    // MARK: Reading

    /// Whether a whole frame is buffered (so `next` will not block).
    public var hasBufferedFrame: Bool {
        guard buffer.count >= 8 else { return false }
        let length = Int(buffer[5]) << 16 | Int(buffer[6]) << 8 | Int(buffer[7])
        return buffer.count >= 8 + length
    }

    /// Reads more from the socket into the buffer; false at end of stream.
    public func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            buffer += chunk[0..<n]
            return true
        }
    }

    /// The next buffered frame, or nil when no whole frame is buffered yet.
    public func next() throws(SPDYError) -> SPDYFrame? {
        guard hasBufferedFrame else { return nil }
        let length = Int(buffer[5]) << 16 | Int(buffer[6]) << 8 | Int(buffer[7])
        let flags = buffer[4]
        let payload = Array(buffer[8..<(8 + length)])
        let header = Array(buffer[0..<4])
        buffer.removeFirst(8 + length)
        if header[0] & 0x80 == 0 {
            let stream = SPDYFramer.uint32(header, 0) & 0x7fff_ffff
            return .data(streamID: stream, bytes: payload, fin: flags & 0x01 != 0)
        }
        let version = (UInt16(header[0] & 0x7f) << 8) | UInt16(header[1])
        guard version == 3 else { throw SPDYError(description: "SPDY version \(version) is not supported (3 is)") }
        let type = (UInt16(header[2]) << 8) | UInt16(header[3])
        switch type {
        case 1:
            guard payload.count >= 10 else { throw SPDYError(description: "short SYN_STREAM frame") }
            let stream = SPDYFramer.uint32(payload, 0) & 0x7fff_ffff
            let headers = try decodeHeaders(Array(payload[10...]))
            return .synStream(streamID: stream, headers: headers, fin: flags & 0x01 != 0)
        case 2:
            guard payload.count >= 4 else { throw SPDYError(description: "short SYN_REPLY frame") }
            _ = try decodeHeaders(Array(payload[4...]))
            return .synReply(streamID: SPDYFramer.uint32(payload, 0) & 0x7fff_ffff)
        case 3:
            guard payload.count >= 8 else { throw SPDYError(description: "short RST_STREAM frame") }
            return .rstStream(streamID: SPDYFramer.uint32(payload, 0) & 0x7fff_ffff, status: SPDYFramer.uint32(payload, 4))
        case 6:
            guard payload.count >= 4 else { throw SPDYError(description: "short PING frame") }
            return .ping(id: SPDYFramer.uint32(payload, 0))
        case 7:
            return .goAway
        case 8:
            // HEADERS: its block must still pass through the shared inflater.
            if payload.count > 4 { _ = try decodeHeaders(Array(payload[4...])) }
            return .ignored
        default:
            return .ignored
        }
    }

    private static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    /// The most a header block may inflate to (Go's http.DefaultMaxHeaderBytes): a frame of
    /// up to 16 MiB of zlib could otherwise inflate to gigabytes.
    public static let maxHeaderBlock = 1 << 20

    /// A header block: inflated with the connection's context; names lower-cased.
    private func decodeHeaders(_ compressed: [UInt8]) throws(SPDYError) -> [String: String] {
        var plain: [UInt8] = []
        var input = compressed
        var output = [UInt8](repeating: 0, count: 16384)
        let count = input.count
        var failure: String?
        input.withUnsafeMutableBufferPointer { inputBuffer in
            inflater.next_in = inputBuffer.baseAddress
            inflater.avail_in = uInt(count)
            while true {
                let status = output.withUnsafeMutableBufferPointer { outputBuffer -> Int32 in
                    inflater.next_out = outputBuffer.baseAddress
                    inflater.avail_out = uInt(outputBuffer.count)
                    var status = inflate(&inflater, Z_SYNC_FLUSH)
                    if status == Z_NEED_DICT {
                        let dictionary = SPDYDictionary.bytes
                        status = dictionary.withUnsafeBufferPointer { inflateSetDictionary(&inflater, $0.baseAddress, uInt($0.count)) }
                        if status == Z_OK { status = inflate(&inflater, Z_SYNC_FLUSH) }
                    }
                    return status
                }
                let produced = output.count - Int(inflater.avail_out)
                plain += output[0..<produced]
                if plain.count > SPDYFramer.maxHeaderBlock {
                    failure = "header block inflates to more than \(SPDYFramer.maxHeaderBlock) bytes"
                    break
                }
                if status != Z_OK && status != Z_BUF_ERROR { failure = "header block does not inflate (zlib \(status))"; break }
                if inflater.avail_in == 0 && inflater.avail_out != 0 { break }
                if status == Z_BUF_ERROR && produced == 0 { break }
            }
            inflater.next_in = nil
        }
        if let failure { throw SPDYError(description: failure) }
        var headers: [String: String] = [:]
        var offset = 0
        func take(_ n: Int) throws(SPDYError) -> [UInt8] {
            guard n >= 0, offset + n <= plain.count else { throw SPDYError(description: "truncated header block") }
            defer { offset += n }
            return Array(plain[offset..<(offset + n)])
        }
        let pairs = Int(SPDYFramer.uint32(try take(4), 0))
        for _ in 0..<pairs {
            let name = String(decoding: try take(Int(SPDYFramer.uint32(try take(4), 0))), as: UTF8.self)
            let value = String(decoding: try take(Int(SPDYFramer.uint32(try take(4), 0))), as: UTF8.self)
            // Several values of one name are NUL-separated; the first is enough here.
            headers[Text.asciiLowercased(name)] = value.split(separator: "\0", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        }
        return headers
    }

    // MARK: Writing

    private func deflateHeaders(_ headers: [(String, String)]) -> [UInt8] {
        var plain: [UInt8] = []
        SPDYFramer.appendUInt32(UInt32(headers.count), to: &plain)
        for (name, value) in headers {
            SPDYFramer.appendUInt32(UInt32(name.utf8.count), to: &plain)
            plain += Array(name.utf8)
            SPDYFramer.appendUInt32(UInt32(value.utf8.count), to: &plain)
            plain += Array(value.utf8)
        }
        var compressed: [UInt8] = []
        var output = [UInt8](repeating: 0, count: 4096)
        let count = plain.count
        plain.withUnsafeMutableBufferPointer { input in
            deflater.next_in = input.baseAddress
            deflater.avail_in = uInt(count)
            repeat {
                output.withUnsafeMutableBufferPointer { buffer in
                    deflater.next_out = buffer.baseAddress
                    deflater.avail_out = uInt(buffer.count)
                    _ = deflate(&deflater, Z_SYNC_FLUSH)
                }
                compressed += output[0..<(output.count - Int(deflater.avail_out))]
            } while deflater.avail_out == 0
            deflater.next_in = nil
        }
        return compressed
    }

    private func controlFrame(type: UInt16, flags: UInt8, payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x80, 0x03, UInt8(type >> 8), UInt8(type & 0xff), flags]
        frame += [UInt8((payload.count >> 16) & 0xff), UInt8((payload.count >> 8) & 0xff), UInt8(payload.count & 0xff)]
        return frame + payload
    }

    private func send(_ bytes: [UInt8]) throws(SPDYError) {
        do { try Files.writeAll(fd: fd, bytes: bytes) } catch {
            throw SPDYError(description: "write to the streaming client: \(error)")
        }
    }

    public func writeSynReply(streamID: UInt32) throws(SPDYError) {
        var payload: [UInt8] = []
        SPDYFramer.appendUInt32(streamID & 0x7fff_ffff, to: &payload)
        payload += deflateHeaders([])
        try send(controlFrame(type: 2, flags: 0, payload: payload))
    }

    public func writeData(streamID: UInt32, bytes: [UInt8], fin: Bool = false) throws(SPDYError) {
        var offset = 0
        repeat {
            let chunk = min(bytes.count - offset, 0xff_ffff)
            let last = offset + chunk == bytes.count
            var frame: [UInt8] = []
            SPDYFramer.appendUInt32(streamID & 0x7fff_ffff, to: &frame)
            frame += [fin && last ? 0x01 : 0x00, UInt8((chunk >> 16) & 0xff), UInt8((chunk >> 8) & 0xff), UInt8(chunk & 0xff)]
            frame += bytes[offset..<(offset + chunk)]
            try send(frame)
            offset += chunk
        } while offset < bytes.count
    }

    public func writeRstStream(streamID: UInt32, status: UInt32) throws(SPDYError) {
        var payload: [UInt8] = []
        SPDYFramer.appendUInt32(streamID & 0x7fff_ffff, to: &payload)
        SPDYFramer.appendUInt32(status, to: &payload)
        try send(controlFrame(type: 3, flags: 0, payload: payload))
    }

    public func writePing(id: UInt32) throws(SPDYError) {
        var payload: [UInt8] = []
        SPDYFramer.appendUInt32(id, to: &payload)
        try send(controlFrame(type: 6, flags: 0, payload: payload))
    }

    public func writeGoAway() throws(SPDYError) {
        try send(controlFrame(type: 7, flags: 0, payload: [0, 0, 0, 0, 0, 0, 0, 0]))
    }
}
