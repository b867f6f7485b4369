#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import CaissonShim
import CaissonSys
import OCISpec

/// Compiles linux.seccomp with libseccomp and loads it into the calling process.
struct SeccompFilter {
    let profile: Seccomp

    /// libseccomp's action value for an OCI action name.
    static func action(_ name: String, errnoRet: UInt32?) -> UInt32? {
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return 0x0000_0000
        case "SCMP_ACT_KILL_PROCESS": return 0x8000_0000
        case "SCMP_ACT_TRAP": return 0x0003_0000
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | ((errnoRet ?? UInt32(EPERM)) & 0xFFFF)
        case "SCMP_ACT_TRACE": return 0x7FF0_0000 | ((errnoRet ?? UInt32(EPERM)) & 0xFFFF)
        case "SCMP_ACT_LOG": return 0x7FFC_0000
        case "SCMP_ACT_ALLOW": return 0x7FFF_0000
        case "SCMP_ACT_NOTIFY": return 0x7FC0_0000
        default: return nil
        }
    }

    static func comparison(_ name: String) -> scmp_compare? {
        switch name {
        case "SCMP_CMP_NE": return SCMP_CMP_NE
        case "SCMP_CMP_LT": return SCMP_CMP_LT
        case "SCMP_CMP_LE": return SCMP_CMP_LE
        case "SCMP_CMP_EQ": return SCMP_CMP_EQ
        case "SCMP_CMP_GE": return SCMP_CMP_GE
        case "SCMP_CMP_GT": return SCMP_CMP_GT
        case "SCMP_CMP_MASKED_EQ": return SCMP_CMP_MASKED_EQ
        default: return nil
        }
    }

    /// Whether any rule asks for user-space notification (then `load` returns a listener fd).
    var usesNotify: Bool { (profile.syscalls ?? []).contains { $0.action == "SCMP_ACT_NOTIFY" } }

    /// Builds and loads the filter. Returns the notification listener descriptor when
    /// the profile uses SCMP_ACT_NOTIFY, else -1.
    func load() throws(SysError) -> Int32 {
        guard let defaultAction = SeccompFilter.action(profile.defaultAction, errnoRet: profile.defaultErrnoRet),
              let context = seccomp_init(defaultAction) else {
            throw SysError("seccomp: initialise filter with default action \(profile.defaultAction)", errno: EINVAL)
        }
        defer { seccomp_release(context) }

        // We set no_new_privs ourselves, when the config asks for it.
        _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0)
        for flag in profile.flags ?? [] {
            let attribute: scmp_filter_attr
            switch flag {
            case "SECCOMP_FILTER_FLAG_TSYNC": attribute = SCMP_FLTATR_CTL_TSYNC
            case "SECCOMP_FILTER_FLAG_LOG": attribute = SCMP_FLTATR_CTL_LOG
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": attribute = SCMP_FLTATR_CTL_SSB
            default: throw SysError("seccomp: flag \(flag) is not supported by this libseccomp", errno: EINVAL)
            }
            let result = seccomp_attr_set(context, attribute, 1)
            if result != 0 { throw SysError("seccomp: set flag \(flag)", errno: -result) }
        }
        for architecture in profile.architectures ?? [] {
            let name = Text.asciiLowercased(String(architecture.dropFirst("SCMP_ARCH_".count)))
            let token = seccomp_arch_resolve_name(name)
            if token == 0 { throw SysError("seccomp: unknown architecture \(architecture)", errno: EINVAL) }
            let result = seccomp_arch_add(context, token)
            if result != 0 && result != -EEXIST { throw SysError("seccomp: add architecture \(architecture)", errno: -result) }
        }

        for (index, rule) in (profile.syscalls ?? []).enumerated() {
            guard let action = SeccompFilter.action(rule.action, errnoRet: rule.errnoRet) else {
                throw SysError("seccomp: syscalls[\(index)]: unknown action \(rule.action)", errno: EINVAL)
            }
            // libseccomp rejects rules that repeat the default action; they change nothing.
            if action == defaultAction { continue }
            var comparisons: [scmp_arg_cmp] = []
            for arg in rule.args ?? [] {
                guard let op = SeccompFilter.comparison(arg.op) else {
                    throw SysError("seccomp: syscalls[\(index)]: unknown operator \(arg.op)", errno: EINVAL)
                }
                comparisons.append(scmp_arg_cmp(arg: arg.index, op: op, datum_a: arg.value, datum_b: arg.valueTwo ?? 0))
            }
            // libseccomp cannot AND two conditions on one argument: like runc, such rules
            // become one rule per condition (an OR).
            let indexes = comparisons.map(\.arg)
            let groups: [[scmp_arg_cmp]] = Set(indexes).count == indexes.count ? [comparisons] : comparisons.map { [$0] }
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                // A syscall this architecture does not have: nothing to filter.
                if number == __NR_SCMP_ERROR { continue }
                for group in groups {
                    let result = group.withUnsafeBufferPointer {
                        seccomp_rule_add_array(context, action, number, UInt32($0.count), $0.baseAddress)
                    }
                    if result != 0 {
                        throw SysError("seccomp: add rule for \(name) (\(rule.action))", errno: -result)
                    }
                }
            }
        }
        if SeccompEnosysStub.applies(to: profile) {
            return try loadWithEnosysStub(context)
        }
        let result = seccomp_load(context)
        if result != 0 { throw SysError("seccomp: load filter", errno: -result) }
        if usesNotify {
            let fd = seccomp_notify_fd(context)
            if fd < 0 { throw SysError("seccomp: get the notification fd", errno: -fd) }
            return fcntl(fd, F_DUPFD_CLOEXEC, 3)
        }
        return -1
    }

    /// Loads libseccomp's program behind the ENOSYS stub with seccomp(2) directly; the
    /// flags are the profile's, plus a new listener where it notifies.
    private func loadWithEnosysStub(_ context: scmp_filter_ctx) throws(SysError) -> Int32 {
        let memory = caisson_memfd_create("seccomp-bpf", 1 /* MFD_CLOEXEC */)
        if memory < 0 { throw SysError("seccomp: memfd for the filter") }
        defer { close(memory) }
        let exported = seccomp_export_bpf(context, memory)
        if exported != 0 { throw SysError("seccomp: export the filter", errno: -exported) }
        _ = lseek(memory, 0, SEEK_SET)
        let filter = try Files.readAll(fd: memory, path: "seccomp filter")
        let stub = SeccompEnosysStub.program(SeccompEnosysStub.limits(for: profile))
        let program = SeccompEnosysStub.bytes(stub) + filter
        var flags: UInt32 = usesNotify ? 8 /* SECCOMP_FILTER_FLAG_NEW_LISTENER */ : 0
        for flag in profile.flags ?? [] {
            switch flag {
            case "SECCOMP_FILTER_FLAG_TSYNC": flags |= 1
            case "SECCOMP_FILTER_FLAG_LOG": flags |= 2
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": flags |= 4
            default: break
            }
        }
        let result = program.withUnsafeBytes { caisson_seccomp_set_filter($0.baseAddress, UInt16(program.count / 8), flags) }
        if result < 0 { throw SysError("seccomp: load filter") }
        return usesNotify ? Launcher.moveAbove(result, minimum: 3) : -1
    }

    static func libraryVersion() -> String {
        guard let version = seccomp_version() else { return "unknown" }
        return "\(version.pointee.major).\(version.pointee.minor).\(version.pointee.micro)"
    }
}
