#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import OCISpec

/// cgroup v2 has no devices.allow file: device access is decided by an eBPF program of
/// type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This compiles the OCI device
/// rules into such a program.
///
/// The kernel calls it with `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
/// u32 minor; }`, where the low 16 bits of access_type are the device type (1 block,
/// 2 char) and the high 16 bits the access (1 mknod, 2 read, 4 write). Rules are
/// checked from the last to the first and the first that matches decides, so later
/// rules override earlier ones as they do on cgroup v1; nothing matching means deny.
/// An allow rule matches when it grants all the requested access, a deny rule when it
/// covers any of it.
public struct DeviceFilterProgram {
    public let instructions: [UInt8]

    struct Instruction {
        var code: UInt8
        var dst: UInt8 = 0
        var src: UInt8 = 0
        var offset: Int16 = 0
        var immediate: Int32 = 0

        var bytes: [UInt8] {
            let off = UInt16(bitPattern: offset)
            let imm = UInt32(bitPattern: immediate)
            return [code, (src << 4) | dst, UInt8(off & 0xFF), UInt8(off >> 8),
                    UInt8(imm & 0xFF), UInt8((imm >> 8) & 0xFF), UInt8((imm >> 16) & 0xFF), UInt8(imm >> 24)]
        }

        static func loadWord(into dst: UInt8, offset: Int16) -> Instruction { Instruction(code: 0x61, dst: dst, src: 1, offset: offset) }
        static func and(_ dst: UInt8, _ value: Int32) -> Instruction { Instruction(code: 0x54, dst: dst, immediate: value) }
        static func shiftRight(_ dst: UInt8, _ value: Int32) -> Instruction { Instruction(code: 0x74, dst: dst, immediate: value) }
        static func move(_ dst: UInt8, from src: UInt8) -> Instruction { Instruction(code: 0xBC, dst: dst, src: src) }
        static func moveImmediate(_ dst: UInt8, _ value: Int32) -> Instruction { Instruction(code: 0xB7, dst: dst, immediate: value) }
        static func jumpIfNotEqual(_ dst: UInt8, _ value: Int32, skip: Int16) -> Instruction { Instruction(code: 0x55, dst: dst, offset: skip, immediate: value) }
        static func jumpIfEqual(_ dst: UInt8, _ value: Int32, skip: Int16) -> Instruction { Instruction(code: 0x15, dst: dst, offset: skip, immediate: value) }
        static let exit = Instruction(code: 0x95)
    }

    static func accessMask(_ access: String?) -> Int32 {
        var mask: Int32 = 0
        for character in access ?? "rwm" {
            switch character {
            case "m": mask |= 1
            case "r": mask |= 2
            case "w": mask |= 4
            default: break
            }
        }
        return mask
    }

    public init(rules: [DeviceCgroupRule]) {
        // r2 = device type, r3 = requested access, r4 = major, r5 = minor
        var program: [Instruction] = [
            .loadWord(into: 2, offset: 0), .and(2, 0xFFFF),
            .loadWord(into: 3, offset: 0), .shiftRight(3, 16),
            .loadWord(into: 4, offset: 4), .loadWord(into: 5, offset: 8),
        ]
        var everythingDecided = false
        for rule in rules.reversed() {
            // One block per rule; every test jumps to the end of the block on a mismatch.
            var block: [Instruction] = []
            var jumps: [Int] = []
            switch rule.type {
            case "c": jumps.append(block.count); block.append(.jumpIfNotEqual(2, 2, skip: 0))
            case "b": jumps.append(block.count); block.append(.jumpIfNotEqual(2, 1, skip: 0))
            default: break
            }
            let mask = DeviceFilterProgram.accessMask(rule.permissions)
            if mask != 7 {
                if rule.allow {
                    // Anything requested beyond the rule's access: no match.
                    block += [.move(6, from: 3), .and(6, ~mask & 7)]
                    jumps.append(block.count); block.append(.jumpIfNotEqual(6, 0, skip: 0))
                } else {
                    // Nothing requested that the rule denies: no match.
                    block += [.move(6, from: 3), .and(6, mask)]
                    jumps.append(block.count); block.append(.jumpIfEqual(6, 0, skip: 0))
                }
            }
            if !rule.isWildcard, let major = rule.major, major >= 0 {
                jumps.append(block.count); block.append(.jumpIfNotEqual(4, Int32(truncatingIfNeeded: major), skip: 0))
            }
            if !rule.isWildcard, let minor = rule.minor, minor >= 0 {
                jumps.append(block.count); block.append(.jumpIfNotEqual(5, Int32(truncatingIfNeeded: minor), skip: 0))
            }
            block += [.moveImmediate(0, rule.allow ? 1 : 0), .exit]
            for jump in jumps { block[jump].offset = Int16(block.count - jump - 1) }
            program += block
            // A rule that matches everything decides every request: the verifier rejects
            // unreachable instructions, so nothing may follow it.
            if jumps.isEmpty {
                everythingDecided = true
                break
            }
        }
        if !everythingDecided {
            // What no rule matched is denied.
            program += [.moveImmediate(0, 0), .exit]
        }
        instructions = program.flatMap(\.bytes)
    }

    /// Loads the program and attaches it to a cgroup2 directory.
    public func attach(to directory: String) throws(SysError) {
        var log = [CChar](repeating: 0, count: 4096)
        let program = instructions.withUnsafeBytes {
            caisson_bpf_load_device_program($0.baseAddress, UInt32(instructions.count / 8), &log, UInt32(log.count))
        }
        if program < 0 {
            let code = errno
            let message = Text.trim(String(cString: log))
            throw SysError("load the device cgroup eBPF program\(message.isEmpty ? "" : " (\(message))")", errno: code)
        }
        defer { close(program) }
        let cgroup = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if cgroup < 0 { throw SysError("open", path: directory) }
        defer { close(cgroup) }
        if caisson_bpf_attach_device_program(cgroup, program) != 0 {
            throw SysError("attach the device eBPF program to", path: directory)
        }
    }
}
