#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import CLIFormatting
import ContainerHealth

/// One run of a health check: `RUNTIME exec --pid-file FILE ID COMMAND...`, started with
/// posix_spawn and never waited for here (the monitor's SIGCHLD handling reaps it and
/// hands over its status), its standard output and error on one pipe that the poll loop
/// reads, and its deadline. At the deadline the process in the container is killed, as
/// docker kills a probe that exceeds its timeout; the runtime then ends on its own (or
/// is killed too if it will not).
final class HealthProbe {
    let runtimePID: pid_t
    /// Our end of the output pipe (non-blocking), -1 once it is closed.
    private(set) var outputFD: Int32
    /// When it started: RFC 3339 for the log, monotonic milliseconds for the rules.
    let start: String
    let startedAt: Int64
    /// When it is killed for exceeding the timeout.
    let deadline: Int64
    private let timeout: Int64
    private let pidFile: String
    private var output = ProbeOutput()
    private(set) var timedOut = false
    /// After a timeout: when the runtime itself is killed if it has not ended.
    private(set) var forceDeadline: Int64?

    init(runtime: [String], id: String, command: [String], pidFile: String, timeout: Int64) throws(SysError) {
        self.pidFile = pidFile
        self.timeout = timeout
        unlink(pidFile)
        var pipe: [Int32] = [-1, -1]
        guard caisson_pipe2(&pipe, O_CLOEXEC) == 0 else { throw SysError("pipe") }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            Glibc.close(pipe[1])
            if null >= 0 { Glibc.close(null) }
        }
        let pid: pid_t
        do {
            pid = try Spawn.start(runtime + ["exec", "--pid-file", pidFile, id] + command,
                                  Spawn.Options(stdin: null, stdout: pipe[1], stderr: pipe[1]))
        } catch {
            Glibc.close(pipe[0])
            throw error
        }
        // Only our end is non-blocking: the probe writes to a blocking pipe, as a probe expects.
        _ = caisson_fcntl_int(pipe[0], F_SETFL, O_NONBLOCK)
        runtimePID = pid
        outputFD = pipe[0]
        start = Clock.rfc3339Now()
        startedAt = Clock.monotonicMilliseconds()
        deadline = startedAt + HealthSettings.milliseconds(timeout)
    }

    /// Reads what the probe has written (the first 4096 bytes are kept); closes the pipe
    /// at its end.
    func readOutput() {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while outputFD >= 0 {
            let n = read(outputFD, &buffer, buffer.count)
            if n > 0 {
                output.append(buffer[0..<n])
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                if n == 0 || errno != EAGAIN { closeOutput() }
                return
            }
        }
    }

    /// The timeout has passed: kill the probe's process in the container (the runtime
    /// reaps it and exits); if the runtime has not started it yet, kill the runtime.
    func expire(now: Int64) {
        timedOut = true
        if let pid = containerPID() {
            Glibc.kill(pid, SIGKILL)
            forceDeadline = now + 2000
        } else {
            Glibc.kill(runtimePID, SIGKILL)
        }
    }

    /// Kills the probe outright (the container has ended, or the runtime lingers).
    func kill() {
        if let pid = containerPID() { Glibc.kill(pid, SIGKILL) }
        Glibc.kill(runtimePID, SIGKILL)
        forceDeadline = nil
    }

    /// The result once the runtime has been reaped with `status`: docker's -1 and
    /// "Health check exceeded timeout (30s)[: output]" for a probe that timed out.
    func finish(status: Int32) -> HealthProbeResult {
        readOutput()
        discard()
        if timedOut {
            let text = output.text
            let message = "Health check exceeded timeout (\(GoDuration.format(timeout)))" + (text.isEmpty ? "" : ": " + text)
            return HealthProbeResult(start: start, end: Clock.rfc3339Now(), exitCode: -1, output: message)
        }
        return HealthProbeResult(start: start, end: Clock.rfc3339Now(), exitCode: Int(Processes.exitStatus(fromWaitStatus: status)),
                                 output: output.text)
    }

    /// Closes the pipe and removes the pid file (the runtime has been reaped).
    func discard() {
        closeOutput()
        unlink(pidFile)
    }

    private func closeOutput() {
        if outputFD >= 0 { Glibc.close(outputFD); outputFD = -1 }
    }

    /// The probe's host pid, once the runtime has written it.
    private func containerPID() -> pid_t? {
        guard let text = try? Files.readTrimmed(pidFile), let pid = pid_t(text), pid > 0 else { return nil }
        return pid
    }
}
