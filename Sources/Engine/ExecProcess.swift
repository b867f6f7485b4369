#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// What `ExecProcess.start` runs: `runtime exec --process FILE` for one container, and
/// which of the command's streams the caller wants.
public struct ExecLaunch: Sendable {
    /// The runtime and its global options: `[runtime, "--root", runtimeRoot]`.
    public var runtime: [String]
    public var containerID: String
    /// The process document (`runtime exec --process`); removed with the process.
    public var processFile: String
    public var tty: Bool
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    /// `caisson-monitor`, whose `exec-wait` is the parent of a command with a terminal.
    public var monitorPath: String
    /// Where the console socket for a terminal is made.
    public var socketDirectory: String

    public init(runtime: [String], containerID: String, processFile: String, tty: Bool, stdin: Bool, stdout: Bool,
                stderr: Bool, monitorPath: String, socketDirectory: String) {
        self.runtime = runtime
        self.containerID = containerID
        self.processFile = processFile
        self.tty = tty
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.monitorPath = monitorPath
        self.socketDirectory = socketDirectory
    }
}

/// A command started in a running container by `runtime exec`, for a client that streams
/// it (the CRI's Exec, the Docker API's exec start): its stdin, stdout and stderr as
/// pipes, or one terminal (received from the runtime on a console socket) for tty.
public final class ExecProcess: @unchecked Sendable {
    public let pid: pid_t
    public private(set) var outputs: [(fd: Int32, stream: String)]
    private var stdin: Int32
    private var terminal: Int32
    private let processFile: String
    private var exited: Int32?

    private init(pid: pid_t, outputs: [(Int32, String)], stdin: Int32, terminal: Int32, processFile: String) {
        self.pid = pid
        self.outputs = outputs
        self.stdin = stdin
        self.terminal = terminal
        self.processFile = processFile
    }

    public static func start(_ launch: ExecLaunch) throws(EngineError) -> ExecProcess {
        let processFile = launch.processFile
        var arguments = launch.runtime + ["exec", "--process", processFile, "--pid-file", processFile + ".pid"]
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        if launch.tty {
            let socketPath = launch.socketDirectory + "/exec-" + String(ContainerEngine.randomID().prefix(12)) + ".sock"
            let listener: Int32
            do { listener = try UnixSocket.listen(socketPath) } catch {
                unlink(processFile)
                throw .runtime("cannot create the console socket: \(error)")
            }
            defer { close(listener); unlink(socketPath) }
            // Detached, as runc requires with a console socket; the monitor's exec-wait
            // is the command's parent and reports its exit status.
            arguments += ["-d", "--tty", "--console-socket", socketPath, launch.containerID]
            arguments = [launch.monitorPath, "exec-wait", processFile + ".pid", "--"] + arguments
            // The runtime's own errors go to a pipe we read if it fails.
            var errors: [Int32] = [-1, -1]
            guard caisson_pipe2(&errors, O_CLOEXEC) == 0 else { throw .system(SysError("pipe")) }
            let pid: pid_t
            do {
                pid = try Spawn.start(arguments, Spawn.Options(stdin: null, stdout: null, stderr: errors[1]))
            } catch {
                close(errors[0]); close(errors[1]); unlink(processFile)
                throw .runtime("cannot run \(launch.runtime[0]): \(error)")
            }
            close(errors[1])
            defer { close(errors[0]) }
            // Wait for the terminal, or for the runtime to fail.
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: errors[0], events: Int16(POLLIN), revents: 0)]
            let deadline = Clock.monotonicMilliseconds() + 30_000
            while fds[0].revents == 0 {
                if Clock.monotonicMilliseconds() > deadline { Glibc.kill(pid, SIGKILL); break }
                if poll(&fds, 2, 1000) < 0 && errno != EINTR { break }
                if fds[1].revents != 0 && fds[0].revents == 0 {
                    var text = [UInt8](repeating: 0, count: 4096)
                    let n = read(errors[0], &text, text.count)
                    var status: Int32 = 0
                    waitpid(pid, &status, 0)
                    unlink(processFile)
                    let message = n > 0 ? String(decoding: text[0..<n], as: UTF8.self) : "exit status \(status)"
                    throw .runtime("exec failed: \(message)")
                }
            }
            let connection = ExecProcess.accept(listener)
            guard connection >= 0 else {
                Glibc.kill(pid, SIGKILL)
                unlink(processFile)
                throw .runtime("the runtime sent no terminal")
            }
            defer { close(connection) }
            var byte: UInt8 = 0
            var master: Int32 = -1
            _ = caisson_recv_fd(connection, &byte, 1, &master)
            guard master >= 0 else {
                Glibc.kill(pid, SIGKILL)
                unlink(processFile)
                throw .runtime("the runtime sent no terminal")
            }
            _ = caisson_fcntl_int(master, F_SETFD, FD_CLOEXEC)
            return ExecProcess(pid: pid, outputs: [(master, "stdout")], stdin: -1, terminal: master, processFile: processFile)
        }
        arguments.append(launch.containerID)
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        var input: [Int32] = [-1, -1]
        guard caisson_pipe2(&out, O_CLOEXEC) == 0, caisson_pipe2(&err, O_CLOEXEC) == 0 else { throw .system(SysError("pipe")) }
        if launch.stdin {
            guard caisson_pipe2(&input, O_CLOEXEC) == 0 else { throw .system(SysError("pipe")) }
        }
        let pid: pid_t
        do {
            pid = try Spawn.start(arguments, Spawn.Options(stdin: launch.stdin ? input[0] : null, stdout: out[1], stderr: err[1]))
        } catch {
            for fd in [out[0], out[1], err[0], err[1], input[0], input[1]] where fd >= 0 { close(fd) }
            unlink(processFile)
            throw .runtime("cannot run \(launch.runtime[0]): \(error)")
        }
        close(out[1])
        close(err[1])
        if input[0] >= 0 { close(input[0]) }
        var outputs: [(Int32, String)] = []
        if launch.stdout { outputs.append((out[0], "stdout")) } else { close(out[0]) }
        if launch.stderr { outputs.append((err[0], "stderr")) } else { close(err[0]) }
        return ExecProcess(pid: pid, outputs: outputs, stdin: input[1], terminal: -1, processFile: processFile)
    }

    public func writeStdin(_ bytes: [UInt8]) {
        let target = terminal >= 0 ? terminal : stdin
        if target >= 0 { try? Files.writeAll(fd: target, bytes: bytes) }
    }

    public func closeStdin() {
        if stdin >= 0 { close(stdin); stdin = -1 }
    }

    public func resize(rows: UInt16, columns: UInt16) {
        if terminal >= 0 { _ = caisson_set_winsize(terminal, rows, columns) }
    }

    public func closeOutput(_ fd: Int32) {
        close(fd)
        if fd == terminal { terminal = -1 }
        outputs.removeAll { $0.fd == fd }
    }

    /// The exit status once the runtime (which waits for the command) has exited.
    public func exitStatus() -> Int32? {
        if let exited { return exited }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = Processes.exitStatus(fromWaitStatus: status) }
        return exited
    }

    public func waitExit() -> Int32 {
        if let exited { return exited }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exited = Processes.exitStatus(fromWaitStatus: status)
        return exited ?? 255
    }

    /// Kills the command (so that the runtime, its parent, reaps it), then the runtime.
    public func kill() {
        guard exited == nil else { return }
        if let command = (try? Files.readTrimmed(processFile + ".pid")).flatMap({ Int32($0) }), command > 0 {
            Glibc.kill(command, SIGKILL)
            let patience = Clock.monotonicMilliseconds() + 2000
            while exitStatus() == nil && Clock.monotonicMilliseconds() < patience { Clock.sleep(milliseconds: 5) }
        }
        if exited == nil { Glibc.kill(pid, SIGKILL); _ = waitExit() }
    }

    public func closeAll() {
        for (fd, _) in outputs where fd != terminal { close(fd) }
        outputs = []
        if terminal >= 0 { close(terminal) }
        closeStdin()
        unlink(processFile)
        unlink(processFile + ".pid")
        if exited == nil { _ = waitExit() }
    }

    /// One connection on the console socket (the runtime's), or -1.
    static func accept(_ listener: Int32) -> Int32 {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd < 0 && errno == EINTR { continue }
            if fd >= 0 { _ = caisson_fcntl_int(fd, F_SETFD, FD_CLOEXEC) }
            return fd
        }
    }
}
