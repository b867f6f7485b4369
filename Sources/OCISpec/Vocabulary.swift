import CaissonSys

/// The spec's named constants and their Linux numbers: capabilities, rlimits,
/// namespaces. Shared by validation (is the name known?) and the runtime (what number?).
public enum Vocabulary {
    public static let capabilities: [String] = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
        "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ]

    /// Capability number for a name ("CAP_SYS_ADMIN" or "SYS_ADMIN", any case).
    public static func capabilityNumber(_ name: String) -> Int? {
        var upper = Text.asciiUppercased(name)
        if !upper.hasPrefix("CAP_") { upper = "CAP_" + upper }
        return capabilities.firstIndex(of: upper)
    }

    public static let rlimits: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]

    /// A namespace kind: its spec name, clone flag and /proc/PID/ns entry.
    public struct NamespaceKind: Sendable, Equatable {
        public let specName: String
        public let cloneFlag: UInt64
        public let procName: String
    }

    /// In the order namespaces must be joined: user first, mount last but one (so
    /// paths still resolve on the host), cgroup after the process is in its cgroup.
    public static let namespaces: [NamespaceKind] = [
        NamespaceKind(specName: "user", cloneFlag: 0x1000_0000, procName: "user"),
        NamespaceKind(specName: "ipc", cloneFlag: 0x0800_0000, procName: "ipc"),
        NamespaceKind(specName: "uts", cloneFlag: 0x0400_0000, procName: "uts"),
        NamespaceKind(specName: "network", cloneFlag: 0x4000_0000, procName: "net"),
        NamespaceKind(specName: "pid", cloneFlag: 0x2000_0000, procName: "pid"),
        NamespaceKind(specName: "time", cloneFlag: 0x0000_0080, procName: "time"),
        NamespaceKind(specName: "cgroup", cloneFlag: 0x0200_0000, procName: "cgroup"),
        NamespaceKind(specName: "mount", cloneFlag: 0x0002_0000, procName: "mnt"),
    ]

    public static func namespace(named name: String) -> NamespaceKind? {
        namespaces.first { $0.specName == name }
    }

    public static let rootfsPropagations: Set<String> = [
        "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
    ]

    public static let seccompActions: Set<String> = [
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
    ]

    public static let seccompOperators: Set<String> = [
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ",
    ]

    public static let seccompFlags: Set<String> = [
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ]

    public static let seccompArchitectures: [String] = [
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
        "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
        "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_RISCV64",
    ]

    /// Mount options understood as flags or propagation; anything else is mount data.
    public static let mountOptions: [String] = [
        "acl", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
        "iversion", "lazytime", "loud", "mand", "noacl", "noatime", "nodev", "nodiratime", "noexec",
        "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow",
        "private", "rbind", "relatime", "remount", "ro", "rprivate", "rshared", "rslave",
        "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync",
        "tmpcopyup", "unbindable",
    ]
}
