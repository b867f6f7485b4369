#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// `caisson-monitor exec-wait PIDFILE -- RUNTIME exec -d ...`: the parent of a detached
/// exec, for a terminal exec (runc hands a console socket the terminal only when it
/// detaches, and then does not wait). As a subreaper it runs the runtime, which starts
/// the command and exits; the command, orphaned, becomes its child, and its exit status
/// (128+N for signal N) becomes this process's, as `runtime exec` would have reported it.
enum ExecWait {
    static func run(pidFile: String, command: [String]) -> Int32 {
        guard !command.isEmpty else { return fail("no runtime command given") }
        _ = caisson_prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0)
        let runtime: pid_t
        do {
            runtime = try Spawn.start(command)
        } catch {
            return fail("\(error)")
        }
        var status: Int32 = 0
        while waitpid(runtime, &status, 0) < 0 && errno == EINTR {}
        let started = Processes.exitStatus(fromWaitStatus: status)
        guard started == 0 else { return started == 255 ? 255 : started }
        guard let text = try? Files.readTrimmed(pidFile), let pid = Int32(text), pid > 0 else {
            return fail("the runtime wrote no pid file \(pidFile)")
        }
        while true {
            let reaped = waitpid(-1, &status, 0)
            if reaped < 0 {
                if errno == EINTR { continue }
                return fail("the command (pid \(pid)) is not our child")
            }
            if reaped == pid { return Processes.exitStatus(fromWaitStatus: status) }
        }
    }

    private static func fail(_ message: String) -> Int32 {
        _ = try? Files.writeAll(fd: 2, bytes: Array("caisson-monitor exec-wait: \(message)\n".utf8))
        return 255
    }
}
