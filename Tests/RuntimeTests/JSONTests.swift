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

    @Test func theFastSpecReaderAgreesWithCodable() throws {
        var spec = DefaultSpec.make(rootless: false)
        spec.process?.consoleSize = ConsoleSize(height: 24, width: 80)
        spec.process?.user = User(uid: 1, gid: 2, umask: 0o22, additionalGids: [3, 4])
        spec.process?.oomScoreAdj = -500
        spec.annotations = ["a": "b"]
        spec.domainname = "example"
        var hooks = Hooks()
        hooks.prestart = [Hook(path: "/bin/true", args: ["true"], env: ["A=B"], timeout: 5)]
        hooks.poststop = [Hook(path: "/bin/false")]
        spec.hooks = hooks
        spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 10)]
        spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 10)]
        spec.linux?.sysctl = ["net.ipv4.ip_forward": "1"]
        spec.linux?.cgroupsPath = "/x/y"
        spec.linux?.personality = Personality(domain: "LINUX32", flags: [])
        spec.linux?.timeOffsets = ["boottime": TimeOffset(secs: 5, nanosecs: 6)]
        spec.linux?.rootfsPropagation = "rslave"
        var seccomp = Seccomp(defaultAction: "SCMP_ACT_ERRNO", syscalls: [
            SeccompSyscall(names: ["read"], action: "SCMP_ACT_ALLOW", errnoRet: 1,
                           args: [SeccompArg(index: 0, value: 1, valueTwo: 2, op: "SCMP_CMP_MASKED_EQ")])])
        seccomp.architectures = ["SCMP_ARCH_X86_64"]
        seccomp.defaultErrnoRet = 38
        spec.linux?.seccomp = seccomp
        var resources = Resources()
        var memory = Resources.Memory()
        memory.limit = 1 << 30
        memory.swap = -1
        memory.disableOOMKiller = true
        resources.memory = memory
        var cpu = Resources.CPU()
        cpu.shares = 512
        cpu.quota = -1
        cpu.cpus = "0-1"
        resources.cpu = cpu
        resources.pids = Resources.Pids(limit: 10)
        resources.hugepageLimits = [Resources.HugepageLimit(pageSize: "2MB", limit: 1 << 21)]
        resources.devices = [DeviceCgroupRule(allow: false, access: "rwm"), DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rw")]
        resources.unified = ["memory.high": "max"]
        spec.linux?.resources = resources
        let bytes = try JSONEncoding.encode(spec)
        #expect(try SpecJSON.decodeSpec(bytes, file: "config.json") == JSONDecoding.decode(Spec.self, from: bytes))
        #expect(try SpecJSON.decodeSpec(bytes, file: "config.json") == spec)
    }

    @Test func theFastSpecReaderNamesTheFieldAtFault() {
        let cases: [(String, String)] = [
            (#"{"ociVersion":"1.0.2","process":{"cwd":"/","user":{"uid":"zero","gid":0}}}"#, "process.user.uid: expected a number"),
            (#"{"ociVersion":"1.0.2","process":{"cwd":"/","user":{"uid":0,"gid":0},"args":"sh"}}"#, "process.args: expected an array"),
            (#"{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"pid"},{"path":"/x"}]}}"#, "linux.namespaces[1].type: required field is missing"),
            (#"{"process":{}}"#, "ociVersion: required field is missing"),
            (#"{"ociVersion":"1.0.2","process":{"cwd":"/","user":{"uid":-1,"gid":0}}}"#, "process.user.uid: -1 does not fit in UInt32"),
            ("[1]", "(top level): expected an object"),
        ]
        for (json, expected) in cases {
            do {
                _ = try SpecJSON.decodeSpec(Array(json.utf8), file: "config.json")
                Issue.record("accepted \(json)")
            } catch {
                #expect(error.description.contains(expected), "\(error.description)")
            }
        }
    }
}
