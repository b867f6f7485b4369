#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import OCISpec

/// The parts of process setup shared by a container's init and by `exec`: resource
/// limits, working directory, identity and privileges, in the order that lets each
/// step still have the privilege it needs.
struct ProcessCredentials {
    let process: Process
    let inUserNamespace: Bool
    let setgroupsAllowed: Bool

    func applyRlimits() throws(RuntimeError) {
        for limit in process.rlimits ?? [] {
            guard let resource = Vocabulary.rlimits[limit.type] else { continue }
            if caisson_setrlimit(resource, limit.soft, limit.hard) != 0 {
                let code = errno
                var currentSoft: UInt64 = 0, currentHard: UInt64 = 0
                _ = caisson_getrlimit(resource, &currentSoft, &currentHard)
                if code == EPERM && limit.hard > currentHard {
                    throw .system(SysError("set \(limit.type) to soft=\(limit.soft) hard=\(limit.hard): the hard limit cannot be raised above \(currentHard) without CAP_SYS_RESOURCE", errno: code))
                }
                throw .system(SysError("set \(limit.type) to soft=\(limit.soft) hard=\(limit.hard)", errno: code))
            }
        }
    }

    /// chdir to process.cwd and check it lies inside the container (CVE-2024-21626:
    /// a leaked host descriptor as cwd would show up as an unreachable path).
    func enterWorkingDirectory() throws(RuntimeError) {
        if chdir(process.cwd) != 0 {
            throw .system(SysError("chdir to cwd (\"\(process.cwd)\") set in the process settings", path: nil))
        }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else {
            throw .system(SysError("getcwd after chdir", path: process.cwd))
        }
        let resolved = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard resolved.hasPrefix("/") else {
            throw .initFailed("process.cwd \(process.cwd) resolves outside the container (\(resolved))")
        }
    }

    /// setgroups, setresgid, setresuid, keeping capabilities across the switch so the
    /// configured sets can be applied afterwards.
    func switchUser() throws(SysError) {
        let user = process.user
        if caisson_prctl(8 /* PR_SET_KEEPCAPS */, 1, 0, 0, 0) != 0 { throw SysError("prctl PR_SET_KEEPCAPS") }
        if setgroupsAllowed {
            let groups = (user.additionalGids ?? []).map { gid_t($0) }
            let result = groups.withUnsafeBufferPointer { setgroups(groups.count, $0.baseAddress) }
            if result != 0 { throw SysError("setgroups \(groups)") }
        }
        if caisson_setresgid(user.gid, user.gid, user.gid) != 0 { throw SysError("setresgid \(user.gid)") }
        if caisson_setresuid(user.uid, user.uid, user.uid) != 0 { throw SysError("setresuid \(user.uid)") }
        if caisson_prctl(8, 0, 0, 0, 0) != 0 { throw SysError("prctl PR_SET_KEEPCAPS") }
    }

    /// Before the switch to the process's user: its stdio (the pty slave, or fds 0-2) is
    /// handed to that user, keeping the group (the tty group for a pty), as runc does, so a
    /// shell running as another user owns its terminal (chown, job control). /dev/null and
    /// what the user owns already are left alone, and so is what a user namespace cannot
    /// map (EINVAL, EPERM).
    func giveStdio(_ descriptors: [Int32]) throws(SysError) {
        let uid = process.user.uid
        guard uid != 0 else { return }
        for fd in descriptors {
            var info = stat()
            guard fstat(fd, &info) == 0 else { continue }
            if info.st_uid == uid { continue }
            if info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0x103 { continue }  // /dev/null (1, 3)
            if fchown(fd, uid, info.st_gid) != 0 && errno != EINVAL && errno != EPERM {
                throw SysError("chown the container's stdio (fd \(fd)) to uid \(uid)")
            }
        }
    }

    func setNoNewPrivileges() throws(SysError) {
        if process.noNewPrivileges == true {
            // PR_SET_NO_NEW_PRIVS
            if caisson_prctl(38, 1, 0, 0, 0) != 0 { throw SysError("prctl PR_SET_NO_NEW_PRIVS") }
        }
    }

    func applyUmask() {
        umask(mode_t(process.user.umask ?? 0o022))
    }

    /// The environment the program sees: the config's, plus HOME when missing.
    func environment() -> [String] {
        var env = process.env ?? []
        if !env.contains(where: { $0.hasPrefix("HOME=") }) {
            env.append("HOME=" + homeDirectory(uid: process.user.uid))
        }
        return env
    }

    private func homeDirectory(uid: UInt32) -> String {
        guard let passwd = try? Files.readString("/etc/passwd") else { return "/" }
        for line in Text.lines(passwd) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 6, UInt32(fields[2]) == uid, !fields[5].isEmpty { return String(fields[5]) }
        }
        return "/"
    }

    /// Finds the program as execve will: a path with a slash as is, else along PATH.
    func resolveExecutable(environment env: [String]) throws(RuntimeError) -> String {
        guard let name = process.args?.first else { throw .usage("process.args is empty") }
        if name.contains("/") {
            guard access(name, F_OK) == 0 else {
                // runc's words, which docker's CLI reads to exit 127.
                if errno == ENOENT || errno == ENOTDIR { throw .initFailed("exec: \"\(name)\": stat \(name): no such file or directory") }
                throw .system(SysError("exec: the container has no", path: name, errno: errno))
            }
            var info = stat()
            guard stat(name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_mode & 0o111 != 0 else {
                throw .initFailed("exec: \"\(name)\": permission denied")
            }
            return name
        }
        let pathVariable = env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in pathVariable.split(separator: ":") {
            let candidate = directory + "/" + name
            var info = stat()
            if stat(candidate, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_mode & 0o111 != 0 {
                return candidate
            }
        }
        throw .initFailed("exec: \"\(name)\": executable file not found in $PATH")
    }
}
