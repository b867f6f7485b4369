#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// What this process (the CLI or caissond, whose limits a container's processes start
/// from) may hand a container: without CAP_SYS_RESOURCE no hard rlimit can go above its
/// own and no oom_score_adj below its own, so the engine refuses such values by name
/// instead of making a container the runtime cannot start. Also whether the host runs a
/// security module the engine would have to apply labels or profiles for.
enum HostPrivileges {
    /// docker's ulimit names and the kernel's resource numbers.
    static let rlimits: [String: Int32] = [
        "cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6, "nofile": 7, "memlock": 8,
        "as": 9, "locks": 10, "sigpending": 11, "msgqueue": 12, "nice": 13, "rtprio": 14, "rttime": 15,
    ]

    /// Whether the effective set holds capability `number` (CAP_SYS_RESOURCE is 24).
    static func hasCapability(_ number: Int) -> Bool {
        guard let status = try? Files.readString("/proc/self/status") else { return false }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).trimmedOfBlanks()
            guard let bits = UInt64(hex, radix: 16) else { return false }
            return bits & (1 << UInt64(number)) != 0
        }
        return false
    }

    static var canRaiseLimits: Bool { hasCapability(24) }

    /// This process's hard limit of a resource (nil for unlimited).
    static func hardLimit(_ resource: Int32) -> UInt64? {
        var soft: UInt64 = 0, hard: UInt64 = 0
        guard caisson_getrlimit(resource, &soft, &hard) == 0 else { return nil }
        return hard == UInt64.max ? nil : hard
    }

    static func ownOOMScoreAdj() -> Int {
        Int((try? Files.readTrimmed("/proc/self/oom_score_adj")) ?? "0") ?? 0
    }

    static var hasSELinux: Bool { Files.exists("/sys/fs/selinux/enforce") }
    static var hasAppArmor: Bool { ((try? Files.readTrimmed("/sys/module/apparmor/parameters/enabled")) ?? "N") == "Y" }
}

extension Substring {
    func trimmedOfBlanks() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
