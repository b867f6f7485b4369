#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// `caisson-init init -- COMMAND...` (this same static binary, bind-mounted into the
/// container for `run --init`): PID 1 that starts the command, passes it the signals it
/// receives, reaps every orphan, and exits with the command's status, as tini and
/// docker-init do.
enum MiniInit {
    static func run(_ command: [String]) -> Int32 {
        guard !command.isEmpty else { return fail("no command given") }
        var mask = sigset_t()
        sigfillset(&mask)
        for signal in [SIGILL, SIGFPE, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS] { sigdelset(&mask, signal) }
        sigprocmask(SIG_BLOCK, &mask, nil)
        let signals = caisson_signalfd_all()
        guard let program = resolve(command[0]) else { return fail("exec: \"\(command[0])\": executable file not found in $PATH") }
        let child: pid_t
        do {
            child = try Spawn.start([program] + command.dropFirst())
        } catch {
            return fail("\(error)")
        }
        while true {
            let signal = caisson_signalfd_read(signals)
            if signal < 0 { if errno == EINTR { continue }; return fail("signalfd read") }
            if signal == SIGCHLD {
                var status: Int32 = 0
                while true {
                    let pid = waitpid(-1, &status, WNOHANG)
                    if pid <= 0 { break }
                    if pid == child { return Processes.exitStatus(fromWaitStatus: status) }
                }
            } else {
                kill(child, signal)
            }
        }
    }

    static func resolve(_ name: String) -> String? {
        if name.contains("/") { return name }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
            return "\(directory)/\(name)"
        }
        return nil
    }

    private static func fail(_ message: String) -> Int32 {
        _ = try? Files.writeAll(fd: 2, bytes: Array("caisson-init: \(message)\n".utf8))
        return 127
    }
}
