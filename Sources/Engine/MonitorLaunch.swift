#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// Starting a `caisson-monitor`: in a new session, stdio on /dev/null, and one end of a
/// socket pair as its fd 3, on which it reports "created PID", takes "start" and reports
/// "started" (or "error: ..."). Used by the engine and by caissond alike. The spawned
/// process forks the real monitor and exits at once; waiting for it here means no caller,
/// however long it lives, is left with a zombie per container.
public enum MonitorLaunch {
    /// Spawns the monitor; returns our end of the channel (the caller closes it).
    public static func start(_ arguments: [String]) throws(SysError) -> Int32 {
        var pair: [Int32] = [-1, -1]
        // Close-on-exec from birth: another thread may be spawning a CNI plugin right now,
        // and a descriptor it inherited would keep this channel open forever.
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SysError("socketpair")
        }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        var spawn = Spawn.Options(stdin: null, stdout: null, stderr: null)
        spawn.inherit = [(pair[1], 3)]
        spawn.newSession = true
        defer { close(pair[1]) }
        let pid: pid_t
        do {
            pid = try Spawn.start(arguments, spawn)
        } catch {
            close(pair[0])
            throw error
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return pair[0]
    }

    /// The PID in a "created PID" report, or nil for anything else.
    public static func createdPID(_ reply: String) -> Int32? {
        guard reply.hasPrefix("created ") else { return nil }
        return Int32(reply.dropFirst("created ".count))
    }
}
