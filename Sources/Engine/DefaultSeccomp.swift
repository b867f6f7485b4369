import OCISpec

/// The seccomp profile every container gets unless it is privileged or runs with
/// `--security-opt seccomp=unconfined`: everything is allowed except the system calls
/// docker's default profile also withholds (kernel modules, kexec, reboot, the clock,
/// keyrings, namespaces and mounts, tracing other processes, bpf, perf, userfaultfd, ...).
/// A call stays allowed when the container holds the capability that governs it, as in
/// docker's profile (`--cap-add SYS_ADMIN` allows mount, unshare and setns).
public enum DefaultSeccomp {
    /// Withheld system calls, and the capability that gives each group back.
    static let groups: [(capability: String?, names: [String])] = [
        ("CAP_SYS_ADMIN", ["mount", "umount", "umount2", "unshare", "setns", "pivot_root", "open_tree", "move_mount",
                           "fsopen", "fsconfig", "fsmount", "fspick", "quotactl", "lookup_dcookie", "bpf", "perf_event_open",
                           "fanotify_init", "name_to_handle_at", "mount_setattr"]),
        ("CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms"]),
        ("CAP_SYS_BOOT", ["reboot", "kexec_load", "kexec_file_load"]),
        ("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex"]),
        ("CAP_SYS_PTRACE", ["ptrace", "process_vm_readv", "process_vm_writev", "kcmp"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_NICE", ["mbind", "set_mempolicy", "move_pages", "get_mempolicy"]),
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        (nil, ["add_key", "request_key", "keyctl", "uselib", "userfaultfd", "ustat", "sysfs", "_sysctl", "nfsservctl",
               "vm86", "vm86old", "swapon", "swapoff", "vhangup"]),
    ]

    public static func profile(capabilities: [String]) -> Seccomp {
        var names: [String] = []
        for group in groups where group.capability.map({ !capabilities.contains($0) }) ?? true {
            names += group.names
        }
        return Seccomp(defaultAction: "SCMP_ACT_ALLOW",
                       syscalls: [SeccompSyscall(names: names, action: "SCMP_ACT_ERRNO", errnoRet: 1)])
    }
}
