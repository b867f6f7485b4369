#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import CRIProto
import OCISpec
import Engine

/// ExecSync: a command in a running container through `runtime exec`, with the
/// container's own process settings (user, environment, capabilities), its output
/// captured byte for byte, and a deadline after which the command is killed.
extension PodManager {
    public struct ExecResult: Sendable {
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        public var exitCode: Int32
    }

    public func execSync(_ id: String, command: [String], timeoutSeconds: Int64) throws(CRIError) -> ExecResult {
        guard !command.isEmpty else { throw .invalid("exec: no command given") }
        let record = try store.container(id).record
        let directory = store.containerDirectory(record.id)
        guard store.state(ofDirectory: directory).status == .running else {
            throw .failedPrecondition("container \(record.id) is not running")
        }
        let processFile = try writeExecProcess(record: record, command: command, tty: false)
        defer { unlink(processFile) }
        let pidFile = processFile + ".pid"
        defer { unlink(pidFile) }
        let arguments = [record.runtimePath, "--root", runtimeRoot(for: record.runtimePath), "exec", "--process", processFile,
                         "--pid-file", pidFile, record.id]
        return try PodManager.capture(arguments, what: "command \(command)",
                                      timeoutMilliseconds: timeoutSeconds > 0 ? timeoutSeconds * 1000 : nil) {
            // Deadline passed: kill the command itself (the runtime only waits for it).
            if let pid = (try? Files.readTrimmed(pidFile)).flatMap({ Int32($0) }), pid > 0 { kill(pid, SIGKILL) }
        }
    }

    /// The container's process settings with another command, as a file for `runtime exec --process`.
    func writeExecProcess(record: PodContainerRecord, command: [String], tty: Bool) throws(CRIError) -> String {
        let directory = store.containerDirectory(record.id)
        let bundle = directory + "/bundle/config.json"
        guard let bytes = try? Files.readBytes(bundle), let spec = try? SpecJSON.decodeSpec(bytes, file: bundle),
              var process = spec.process else {
            throw .failed("cannot read the configuration of container \(record.id)")
        }
        process.args = command
        process.terminal = tty
        process.consoleSize = nil
        let file = directory + "/exec-" + String(ContainerEngine.randomID().prefix(12)) + ".json"
        do { try Files.write(file, bytes: SpecJSON.encode(process), mode: 0o600) } catch {
            throw .failed("cannot write \(file): \(error)")
        }
        return file
    }

    /// Runs a program, collecting its standard output and error until it exits; after
    /// the deadline `onTimeout` runs, the program is killed and deadlineExceeded thrown.
    static func capture(_ arguments: [String], what: String, timeoutMilliseconds: Int64?,
                        onTimeout: () -> Void) throws(CRIError) -> ExecResult {
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard caisson_pipe2(&out, O_CLOEXEC) == 0 else { throw .failed("pipe: \(SysError("pipe"))") }
        guard caisson_pipe2(&err, O_CLOEXEC) == 0 else {
            close(out[0]); close(out[1])
            throw .failed("pipe: \(SysError("pipe"))")
        }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let pid: pid_t
        do {
            pid = try Spawn.start(arguments, Spawn.Options(stdin: null, stdout: out[1], stderr: err[1]))
        } catch {
            for fd in [out[0], out[1], err[0], err[1], null] { close(fd) }
            throw .failed("cannot run \(arguments[0]): \(error)")
        }
        for fd in [out[1], err[1], null] { close(fd) }
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var open = [out[0], err[0]]
        let deadline = timeoutMilliseconds.map { Clock.monotonicMilliseconds() + $0 }
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            var wait: Int32 = -1
            if let deadline {
                let left = deadline - Clock.monotonicMilliseconds()
                if left <= 0 { timedOut = true; break }
                wait = Int32(min(left, 1000))
            }
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 { if errno == EINTR { continue }; break }
            for entry in fds where entry.revents != 0 {
                let n = read(entry.fd, &buffer, buffer.count)
                if n > 0 {
                    if entry.fd == out[0] { stdout += buffer[0..<n] } else { stderr += buffer[0..<n] }
                } else if n == 0 || errno != EINTR {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        if timedOut {
            // The command first, so that the runtime (its parent) reaps it and exits; an
            // orphan would go to the host's init, which may not reap it soon.
            onTimeout()
            let patience = Clock.monotonicMilliseconds() + 2000
            var status: Int32 = 0
            var reaped = false
            while !reaped && Clock.monotonicMilliseconds() < patience {
                reaped = waitpid(pid, &status, WNOHANG) == pid
                if !reaped { Clock.sleep(milliseconds: 5) }
            }
            for fd in open { close(fd) }
            if !reaped {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
            throw .deadlineExceeded("\(what) timed out after \((timeoutMilliseconds ?? 0) / 1000) s")
        }
        for fd in open { close(fd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return ExecResult(stdout: stdout, stderr: stderr, exitCode: Processes.exitStatus(fromWaitStatus: status))
    }
}
