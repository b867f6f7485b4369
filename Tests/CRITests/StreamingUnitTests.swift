@testable import CRIServer
import SPDY
import Crypto
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
}
