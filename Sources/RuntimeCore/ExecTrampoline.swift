#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// Defence against CVE-2019-5736 without copying the runtime binary on every start.
///
/// The attack: a container makes its entrypoint a script starting `#!/proc/self/exe`.
/// When the runtime's child execs it, the kernel resolves that interpreter while the
/// child's /proc/self/exe still names the host's `caisson-runtime`, so the container
/// ends up running, then holding a descriptor to, the host binary, which it may
/// overwrite once it stops running. runc answers by re-executing from a sealed memfd
/// copy of itself (several milliseconds for a large binary).
///
/// Caisson's child instead performs its final exec through this trampoline: a tiny
/// static ELF (under 200 bytes) held in a sealed, read-only memfd, whose only job is
/// `execve(argv[0], argv+1, envp)`. At the moment the user's program is executed,
/// /proc/self/exe is the sealed memfd, which nobody can write. Before that moment the
/// child is non-dumpable, so no process in the container can open its /proc entries.
public enum ExecTrampoline {
    /// x86-64 machine code: execve(argv[0], &argv[1], envp); exit(127) if it fails or
    /// if argc < 2 (a legitimate call always passes the path and the program's argv[0];
    /// this also ends a `#!/proc/self/exe` script, which would re-run the trampoline).
    ///   cmp  qword [rsp], 2        ; argc < 2?
    ///   jb   fail
    ///   mov  rdi, [rsp+8]          ; path = argv[0]
    ///   lea  rsi, [rsp+16]         ; argv = &argv[1]
    ///   mov  rax, [rsp]            ; argc
    ///   lea  rdx, [rsp+rax*8+16]   ; envp = &argv[argc+1]
    ///   mov  eax, 59               ; SYS_execve
    ///   syscall
    /// fail:
    ///   mov  edi, 127
    ///   mov  eax, 60               ; SYS_exit
    ///   syscall
    static let x86_64Code: [UInt8] = [
        0x48, 0x83, 0x3C, 0x24, 0x02,
        0x72, 0x1A,
        0x48, 0x8B, 0x7C, 0x24, 0x08,
        0x48, 0x8D, 0x74, 0x24, 0x10,
        0x48, 0x8B, 0x04, 0x24,
        0x48, 0x8D, 0x54, 0xC4, 0x10,
        0xB8, 0x3B, 0x00, 0x00, 0x00,
        0x0F, 0x05,
        0xBF, 0x7F, 0x00, 0x00, 0x00,
        0xB8, 0x3C, 0x00, 0x00, 0x00,
        0x0F, 0x05,
    ]

    /// AArch64 machine code, the same program:
    ///   ldr x2, [sp]; cmp x2, #2; b.lo fail; ldr x0, [sp, #8]; add x1, sp, #16;
    ///   add x2, sp, x2, uxtx #3; add x2, x2, #16; mov x8, #221; svc #0;
    ///   fail: mov x0, #127; mov x8, #93; svc #0
    static let aarch64Code: [UInt32] = [
        0xF94003E2, 0xF100085F, 0x540000E3, 0xF94007E0, 0x910043E1, 0x8B226FE2,
        0x91004042, 0xD2801BA8, 0xD4000001, 0xD2800FE0, 0xD2800BA8, 0xD4000001,
    ]

    /// A minimal ELF64 executable: one header, one PT_LOAD segment, then the code.
    static func image() -> [UInt8] {
        #if arch(x86_64)
        let machine: UInt16 = 0x3E
        let code = x86_64Code
        #elseif arch(arm64)
        let machine: UInt16 = 0xB7
        let code = aarch64Code.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
        #else
        #error("ExecTrampoline has machine code for x86_64 and arm64 only")
        #endif
        let base: UInt64 = 0x400000
        let headerSize = 64, programHeaderSize = 56
        let total = UInt64(headerSize + programHeaderSize + code.count)
        var bytes: [UInt8] = []
        func put16(_ value: UInt16) { bytes += [UInt8(value & 0xFF), UInt8(value >> 8)] }
        func put32(_ value: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (i * 8))) } }
        func put64(_ value: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (i * 8))) } }
        // ELF header
        bytes += [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        put16(2)                                           // e_type: ET_EXEC
        put16(machine)                                     // e_machine
        put32(1)                                           // e_version
        put64(base + UInt64(headerSize + programHeaderSize)) // e_entry
        put64(UInt64(headerSize))                          // e_phoff
        put64(0)                                           // e_shoff
        put32(0)                                           // e_flags
        put16(UInt16(headerSize))                          // e_ehsize
        put16(UInt16(programHeaderSize))                   // e_phentsize
        put16(1)                                           // e_phnum
        put16(0); put16(0); put16(0)                       // e_shentsize, e_shnum, e_shstrndx
        // Program header: PT_LOAD, R+X, the whole file at `base`.
        put32(1); put32(5)
        put64(0); put64(base); put64(base)
        put64(total); put64(total)
        put64(0x1000)
        bytes += code
        return bytes
    }

    /// Creates the sealed memfd holding the trampoline. The descriptor is close-on-exec.
    public static func makeSealedFile() throws(SysError) -> Int32 {
        // MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC
        var fd = caisson_memfd_create("caisson-exec", 0x1 | 0x2 | 0x10)
        if fd < 0 && errno == EINVAL { fd = caisson_memfd_create("caisson-exec", 0x1 | 0x2) }
        if fd < 0 { throw SysError("memfd_create for the exec trampoline") }
        let code = image()
        do {
            try Files.writeAll(fd: fd, bytes: code, path: "exec trampoline memfd")
        } catch {
            close(fd)
            throw error
        }
        _ = fchmod(fd, 0o555)
        // F_ADD_SEALS(1033): F_SEAL_SEAL(1) | F_SEAL_SHRINK(2) | F_SEAL_GROW(4) | F_SEAL_WRITE(8)
        if caisson_fcntl_int(fd, 1033, 0x1 | 0x2 | 0x4 | 0x8) != 0 {
            let error = SysError("seal the exec trampoline memfd")
            close(fd)
            throw error
        }
        return fd
    }

    /// Replaces the calling process with `path` run through the trampoline. Only
    /// returns on failure.
    public static func exec(trampoline fd: Int32, path: String, argv: [String], env: [String]) -> SysError {
        let args = CStringArray([path] + argv)
        let environment = CStringArray(env)
        _ = caisson_execveat(fd, "", args.pointers, environment.pointers, 0x1000 /* AT_EMPTY_PATH */)
        return SysError("execute", path: path)
    }
}
