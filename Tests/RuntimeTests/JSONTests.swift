import Foundation
import Testing
import CaissonJSON
import OCISpec

/// The runtime's own JSON codec against Foundation's, and against malformed input.
@Suite(.timeLimit(.minutes(2))) struct JSONTests {
    @Test func decodesWhatFoundationDecodes() throws {
        let spec = DefaultSpec.make(rootless: false)
        let bytes = Array(try JSONEncoder().encode(spec))
        let decoded = try JSONDecoding.decode(Spec.self, from: bytes)
        #expect(decoded == spec)
    }

    @Test func roundTripsThroughOurEncoder() throws {
        var spec = DefaultSpec.make(rootless: true, uid: 1000, gid: 1000)
        spec.annotations = ["quote\"back\\slash": "tab\there\nnewline \u{1}", "unicode": "héllo ☃"]
        spec.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: UInt64.max, soft: 1)]
        for pretty in [false, true] {
            let bytes = try JSONEncoding.encode(spec, pretty: pretty)
            #expect(try JSONDecoding.decode(Spec.self, from: bytes) == spec)
            #expect(try JSONDecoder().decode(Spec.self, from: Data(bytes)) == spec)
        }
    }

    @Test func numbersKeepSixtyFourBits() throws {
        struct Limits: Codable, Equatable { var big: UInt64; var negative: Int64; var ratio: Double }
        let value = try JSONDecoding.decode(Limits.self, from: Array(#"{"big":18446744073709551615,"negative":-9223372036854775808,"ratio":0.25}"#.utf8))
        #expect(value == Limits(big: .max, negative: .min, ratio: 0.25))
    }

    @Test func rejectsMalformedDocuments() {
        for text in ["", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "01", "\"unterminated", "\"bad \\x escape\"",
                     "tru", "[1] 2", "{\"a\":1,}", "\"\u{1}\"", String(repeating: "[", count: 600)] {
            #expect(throws: JSONSyntaxError.self, "accepted \(text)") { try JSONParser.parse(Array(text.utf8)) }
        }
    }

    @Test func parsesEscapesAndSurrogates() throws {
        let value = try JSONParser.parse(Array(#"["a\"b\\c\/d\n", "\u00e9\ud83d\ude00"]"#.utf8))
        #expect(value == .array([.string("a\"b\\c/d\n"), .string("é😀")]))
    }
}
