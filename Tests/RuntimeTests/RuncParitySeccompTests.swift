import CSeccomp
import Foundation
import OCISpec
import Testing

/// Seccomp as runc 1.1 applies it, side by side.
@Suite(.serialized)
struct RuncParitySeccompTests {
    /// A static program that makes each syscall number it is given and prints
    /// `number:errno`, built with the toolchain's C compiler.
    static func probe() throws -> String {
        let directory = try Scratch.directory("probe")
        let source = directory + "/probe.c"
        try """
        #include <errno.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            for (int i = 1; i < argc; i++) {
                long nr = atol(argv[i]);
                errno = 0;
                long r = syscall(nr, -1L, 0L, 0L, 0L, 0L, 0L);
                printf("%ld:%d\\n", nr, r == -1 ? errno : 0);
            }
            return 0;
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let built = try Shell.run("/usr/bin/env", ["clang", "-static", "-O1", "-o", directory + "/probe", source])
        guard built.status == 0 else { throw RuntimeDriver.DriverError(description: "clang: \(built.stderr)") }
        return directory + "/probe"
    }

    /// The native names of the syscall numbers in `numbers`.
    static func names(_ numbers: [Int32]) -> [String] {
        numbers.compactMap { number in
            guard let name = seccomp_syscall_resolve_num_arch(UInt32(SCMP_ARCH_NATIVE), number) else { return nil }
            defer { free(name) }
            return String(cString: name)
        }
    }

    /// An allow-list profile (default EPERM) that names syscalls up to 439 but not acct
    /// (163) nor close_range (436): a syscall above the largest it names fails with ENOSYS
    /// (so libraries fall back to older calls), one it leaves out below that with EPERM.
    @Test func syscallsNewerThanTheProfileFailWithENOSYS() throws {
        let probe = try Self.probe()
        let allowed = Self.names(Array(0...334).filter { $0 != 163 } + Array(424...435) + [439])
        let seen = try RuncParityTests.compare { driver in
            var bundle = try BusyboxBundle(args: ["/probe", "163", "436", "440", "1000", "39"])
            try FileManager.default.copyItem(atPath: probe, toPath: bundle.rootfs + "/probe")
            var profile = Seccomp(defaultAction: "SCMP_ACT_ERRNO", syscalls: [SeccompSyscall(names: allowed, action: "SCMP_ACT_ALLOW")])
            profile.architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
            bundle.spec.linux?.seccomp = profile
            try bundle.write()
            let id = Scratch.uniqueID("enosys")
            defer { driver.forceDelete(id) }
            let ran = try driver.run(["run", "--bundle", bundle.directory, id])
            return ["status \(ran.status)"] + ran.stdout.split(separator: "\n").map(String.init)
        }
        #expect(seen["caisson-runtime"] == ["status 0", "163:\(EPERM)", "436:\(EPERM)", "440:\(ENOSYS)", "1000:\(ENOSYS)", "39:0"])
        RuncParityTests.expectSameAsRunc(seen)
    }

    /// SCMP_ACT_NOTIFY on write is refused (the listener is handed over with write), and
    /// a listener socket that is not there is named as the seccomp agent's, not as a
    /// console socket.
    @Test func notifyRulesAreCheckedAsRuncChecksThem() throws {
        let seen = try RuncParityTests.compare { driver in
            var observed: [String] = []
            for names in [["write"], ["mkdir"]] {
                var bundle = try BusyboxBundle(args: ["true"])
                var profile = Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [SeccompSyscall(names: names, action: "SCMP_ACT_NOTIFY")])
                profile.listenerPath = "/nonexistent/agent.sock"
                bundle.spec.linux?.seccomp = profile
                try bundle.write()
                let id = Scratch.uniqueID("notify")
                defer { driver.forceDelete(id) }
                let ran = try driver.run(["run", "--bundle", bundle.directory, id])
                observed.append("\(names[0]): \(ran.status != 0) write named: \(ran.stderr.contains("write syscall"))"
                                + " agent named: \(ran.stderr.contains("seccomp agent")) console named: \(ran.stderr.contains("console"))")
            }
            return observed
        }
        #expect(seen["caisson-runtime"] == [
            "write: true write named: true agent named: false console named: false",
            "mkdir: true write named: false agent named: true console named: false",
        ])
        RuncParityTests.expectSameAsRunc(seen)
    }
}
