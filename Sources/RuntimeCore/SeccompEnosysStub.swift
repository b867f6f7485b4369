#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import CaissonSys
import OCISpec

/// A few classic-BPF instructions put in front of libseccomp's filter so that a syscall
/// newer than the profile (a number above the largest the profile names, for its
/// architecture) fails with ENOSYS rather than the default action's EPERM. glibc and
/// other libraries fall back to older syscalls on ENOSYS (clone3 to clone, openat2 to
/// openat, statx to fstatat) but take EPERM as final. runc 1.1 prepends the same kind of
/// stub; profiles whose default action lets calls through (allow, log, trace) get none.
struct SeccompEnosysStub {
    /// One `struct sock_filter`.
    struct Instruction: Equatable {
        var code: UInt16
        var jt: UInt8 = 0
        var jf: UInt8 = 0
        var k: UInt32 = 0
    }

    /// The largest syscall number the profile names, per kernel audit architecture.
    struct ArchitectureLimit: Equatable {
        var auditArch: UInt32
        /// For x86_64: the largest native number; for others, their only limit.
        var largest: UInt32?
        /// For x86_64 only: the largest x32 number (x32 calls carry bit 30), if x32 is listed.
        var largestX32: UInt32?
    }

    static let auditArchX86_64: UInt32 = 0xC000_003E
    static let x32SyscallBit: UInt32 = 0x4000_0000
    static let returnENOSYS: UInt32 = 0x0005_0000 | UInt32(ENOSYS)

    /// libseccomp's architecture tokens (SCMP_ARCH_*) and the kernel's AUDIT_ARCH_* values.
    static let auditArchitectures: [String: UInt32] = [
        "SCMP_ARCH_X86_64": auditArchX86_64, "SCMP_ARCH_X32": auditArchX86_64, "SCMP_ARCH_X86": 0x4000_0003,
        "SCMP_ARCH_AARCH64": 0xC000_00B7, "SCMP_ARCH_ARM": 0x4000_0028,
        "SCMP_ARCH_PPC64LE": 0xC000_0015, "SCMP_ARCH_S390X": 0x8000_0016, "SCMP_ARCH_RISCV64": 0xC000_00F3,
    ]

    /// Whether the profile gets a stub: not when its default lets calls through, nor when
    /// its default already answers ENOSYS.
    static func applies(to profile: Seccomp) -> Bool {
        if ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].contains(profile.defaultAction) { return false }
        if profile.defaultAction == "SCMP_ACT_ERRNO" && profile.defaultErrnoRet == UInt32(ENOSYS) { return false }
        return !limits(for: profile).isEmpty
    }

    /// Per architecture the profile lists, the largest syscall number its rules name
    /// (names that architecture lacks are ignored).
    static func limits(for profile: Seccomp) -> [ArchitectureLimit] {
        var limits: [ArchitectureLimit] = []
        for name in profile.architectures ?? [] {
            guard let auditArch = auditArchitectures[name] else { continue }
            let token = seccomp_arch_resolve_name(Text.asciiLowercased(String(name.dropFirst("SCMP_ARCH_".count))))
            guard token != 0 else { continue }
            var largest: UInt32?
            for rule in profile.syscalls ?? [] {
                for syscall in rule.names {
                    let number = seccomp_syscall_resolve_name_arch(token, syscall)
                    guard number >= 0 else { continue }
                    largest = max(largest ?? 0, UInt32(number))
                }
            }
            guard let largest else { continue }
            let index = limits.firstIndex { $0.auditArch == auditArch } ?? {
                limits.append(ArchitectureLimit(auditArch: auditArch))
                return limits.count - 1
            }()
            if name == "SCMP_ARCH_X32" {
                limits[index].largestX32 = largest | x32SyscallBit
            } else {
                limits[index].largest = largest
            }
        }
        return limits
    }

    /// The stub: per architecture, compare the syscall number with its limit; above it,
    /// ENOSYS; otherwise (and for architectures not listed) on to libseccomp's filter,
    /// which starts right after the stub.
    static func program(_ limits: [ArchitectureLimit]) -> [Instruction] {
        enum Target { case enosys, filter }
        var code: [Instruction] = []
        var pending: [(index: Int, trueTarget: Target?, falseTarget: Target?)] = []
        let loadWord: UInt16 = 0x20, jumpEqual: UInt16 = 0x15, jumpGreater: UInt16 = 0x25
        let jumpSet: UInt16 = 0x45, jumpAlways: UInt16 = 0x05, returnConstant: UInt16 = 0x06

        /// "above `limit`: ENOSYS, else the filter", or straight to the filter without one.
        func compare(with limit: UInt32?) {
            if let limit {
                pending.append((code.count, .enosys, .filter))
                code.append(Instruction(code: jumpGreater, k: limit))
            } else {
                pending.append((code.count, .filter, nil))
                code.append(Instruction(code: jumpAlways))
            }
        }

        code.append(Instruction(code: loadWord, k: 4))  // seccomp_data.arch
        for limit in limits {
            let x86 = limit.auditArch == auditArchX86_64
            // Not this architecture: skip this block (the accumulator still holds the arch).
            code.append(Instruction(code: jumpEqual, jt: 0, jf: x86 ? 4 : 2, k: limit.auditArch))
            code.append(Instruction(code: loadWord, k: 0))  // seccomp_data.nr
            if x86 {
                code.append(Instruction(code: jumpSet, jt: 1, jf: 0, k: x32SyscallBit))
                compare(with: limit.largest)
                compare(with: limit.largestX32)
            } else {
                compare(with: limit.largest)
            }
        }
        pending.append((code.count, .filter, nil))
        code.append(Instruction(code: jumpAlways))
        let enosys = code.count
        code.append(Instruction(code: returnConstant, k: returnENOSYS))
        let filter = code.count

        for (index, trueTarget, falseTarget) in pending {
            func offset(_ target: Target) -> Int { (target == .enosys ? enosys : filter) - (index + 1) }
            if code[index].code == jumpAlways {
                code[index].k = UInt32(offset(trueTarget ?? .filter))
            } else {
                code[index].jt = UInt8(offset(trueTarget ?? .filter))
                code[index].jf = UInt8(offset(falseTarget ?? .filter))
            }
        }
        return code
    }

    /// The instructions as `struct sock_filter` bytes, in the host's byte order.
    static func bytes(_ program: [Instruction]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(program.count * 8)
        for instruction in program {
            withUnsafeBytes(of: instruction.code) { bytes += $0 }
            bytes += [instruction.jt, instruction.jf]
            withUnsafeBytes(of: instruction.k) { bytes += $0 }
        }
        return bytes
    }
}
