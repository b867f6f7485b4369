import Testing
import CaissonSys
import OCISpec
@testable import RuntimeCore

/// Fast checks of parsing and validation, no containers.
@Suite(.timeLimit(.minutes(2))) struct UnitTests {
    @Test func signalNamesParseLikeKill() throws {
        #expect(try Signals.parse("KILL") == 9)
        #expect(try Signals.parse("SIGTERM") == 15)
        #expect(try Signals.parse("sigusr1") == 10)
        #expect(try Signals.parse("9") == 9)
        #expect(try Signals.parse("RTMIN+2") == 36)
        #expect(throws: Signals.ParseError.self) { try Signals.parse("NOPE") }
        #expect(throws: Signals.ParseError.self) { try Signals.parse("0") }
        #expect(throws: Signals.ParseError.self) { try Signals.parse("65") }
    }

    @Test func mountOptionsSplitIntoFlagsPropagationAndData() throws {
        let options = try MountOptions(["nosuid", "ro", "rbind", "rslave", "mode=755", "size=64k", "rw"])
        #expect(options.isRecursiveBind)
        #expect(options.flags & MountFlag.readOnly == 0)
        #expect(options.flags & MountFlag.noSuid != 0)
        #expect(options.propagation == [MountFlag.slave | MountFlag.recursive])
        #expect(options.data == ["mode=755", "size=64k"])
        let recursive = try MountOptions(["rro", "rnoatime", "rsuid"])
        #expect(recursive.recursiveSet == 0x1 | 0x10)
        #expect(recursive.recursiveClear == 0x70 | 0x2)
        #expect(throws: MountOptions.ParseError.self) { try MountOptions(["ridmap"]) }
    }

    @Test func pathsCleanWithoutEscapingTheRoot() {
        #expect(Paths.clean("/a/../../b//c/.") == "/b/c")
        #expect(Paths.clean("../../etc") == "/etc")
        #expect(Paths.join("/root/", "/etc") == "/root/etc")
    }

    @Test func defaultSpecValidates() throws {
        var spec = DefaultSpec.make(rootless: false)
        try SpecValidator.validate(spec)
        spec.linux?.namespaces?.append(Namespace(type: "bogus"))
        #expect(throws: ConfigError.self) { try SpecValidator.validate(spec) }
        try SpecValidator.validate(DefaultSpec.make(rootless: true, uid: 1000, gid: 1000))
    }

    @Test func decodingErrorsNameTheField() {
        let json = Array(#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","user":{"uid":"zero","gid":0}}}"#.utf8)
        do {
            _ = try SpecJSON.decode(Spec.self, from: json, file: "config.json")
            Issue.record("decoding should fail")
        } catch {
            #expect(error.description.contains("process.user.uid"))
        }
    }

    @Test func trampolineIsASmallELF() {
        let image = ExecTrampoline.image()
        #expect(Array(image.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46])
        #expect(image.count < 256)
    }

    @Test func rfc3339TimestampsHaveNanoseconds() {
        #expect(Clock.rfc3339(seconds: 0, nanoseconds: 5) == "1970-01-01T00:00:00.000000005Z")
    }

    @Test func deviceRulesRenderAsV1Lines() {
        #expect(DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm").cgroupV1Line == "c 1:3 rwm")
        #expect(DeviceCgroupRule(allow: true, type: "c", major: 136, minor: nil, access: "rw").cgroupV1Line == "c 136:* rw")
    }
}
