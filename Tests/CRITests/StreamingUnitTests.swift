@testable import CRIServer
import Crypto
import CZlib
import SPDY
import Testing

/// The parts of the streaming server that are facts of the protocols.
struct StreamingUnitTests {
    /// The SPDY/3 header dictionary must be byte for byte the one every SPDY peer uses
    /// (1423 bytes; this is the SHA-256 of client-go's spdystream copy).
    @Test func spdyDictionaryIsTheStandardOne() {
        let bytes = SPDYDictionary.bytes
        #expect(bytes.count == 1423)
        let digest = SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        #expect(digest == "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02")
    }

    /// v4's error stream carries a metav1.Status with the exit code as an ExitCode cause.
    @Test func remoteCommandStatus() {
        #expect(RemoteCommandSession.status(exitCode: 0, message: nil, version: "v4.channel.k8s.io")
                == "{\"metadata\":{},\"status\":\"Success\"}")
        let failure = RemoteCommandSession.status(exitCode: 3, message: nil, version: "v4.channel.k8s.io")
        #expect(failure.contains("\"reason\":\"NonZeroExitCode\""))
        #expect(failure.contains("\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]"))
        #expect(RemoteCommandSession.status(exitCode: 0, message: nil, version: "v2.channel.k8s.io") == "")
    }

    @Test func resizeMessages() {
        let parsed = RemoteCommandSession.terminalSize(Array("{\"Width\":132,\"Height\":43}".utf8))
        #expect(parsed?.0 == 132 && parsed?.1 == 43)
        #expect(RemoteCommandSession.terminalSize(Array("{\"Width\":1".utf8)) == nil)
    }

    @Test func rfc3339Timestamps() {
        #expect(Timestamps.nanoseconds(rfc3339: "1970-01-01T00:00:01.5Z") == 1_500_000_000)
        #expect(Timestamps.nanoseconds(rfc3339: "2026-11-29T22:26:19.123456789Z") % 1_000_000_000 == 123_456_789)
        #expect(Timestamps.nanoseconds(rfc3339: "garbage") == 0)
    }

    /// A SYN_STREAM whose header block is `plain`, deflated with the SPDY dictionary as
    /// client-go does.
    static func synStream(headerBlock plain: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        _ = deflateInit_(&stream, Z_DEFAULT_COMPRESSION, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        _ = SPDYDictionary.bytes.withUnsafeBufferPointer { deflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
        var input = plain
        var compressed: [UInt8] = []
        var output = [UInt8](repeating: 0, count: 65536)
        let count = input.count
        input.withUnsafeMutableBufferPointer { buffer in
            stream.next_in = buffer.baseAddress
            stream.avail_in = uInt(count)
            repeat {
                output.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    _ = deflate(&stream, Z_SYNC_FLUSH)
                }
                compressed += output[0..<(output.count - Int(stream.avail_out))]
            } while stream.avail_out == 0
        }
        let payload: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0] + compressed
        return [0x80, 0x03, 0x00, 0x01, 0x00, UInt8(payload.count >> 16), UInt8((payload.count >> 8) & 0xff), UInt8(payload.count & 0xff)]
            + payload
    }

    static func headerBlock(_ pairs: [(String, [UInt8])]) -> [UInt8] {
        func be(_ n: Int) -> [UInt8] { [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] }
        return be(pairs.count) + pairs.flatMap { be($0.0.utf8.count) + Array($0.0.utf8) + be($0.1.count) + $0.1 }
    }

    /// Found by reading the framer while fuzzing it (Fuzz/Sources/spdy): a header block is
    /// zlib, so a small frame could inflate to gigabytes; it is refused past 1 MiB.
    @Test func spdyHeaderBlockThatInflatesTooFarIsRefused() throws {
        let ordinary = try SPDYFramer(fd: -1, pending: StreamingUnitTests.synStream(
            headerBlock: StreamingUnitTests.headerBlock([("StreamType", Array("error".utf8))])))
        #expect(try ordinary.next() == .synStream(streamID: 1, headers: ["streamtype": "error"], fin: false))
        let bomb = StreamingUnitTests.synStream(
            headerBlock: StreamingUnitTests.headerBlock([("a", [UInt8](repeating: 0x78, count: 8 << 20))]))
        #expect(bomb.count < 64 << 10)
        let framer = try SPDYFramer(fd: -1, pending: bomb)
        #expect { try framer.next() } throws: { "\($0)".contains("header block inflates to more than") }
    }
}
