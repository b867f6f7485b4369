#if canImport(Glibc)
import Glibc
#endif
import AttachProtocol
import CaissonShim
import CaissonSys

/// What the engine tells the monitor (its command line).
struct MonitorOptions {
    var directory = ""
    var id = ""
    var runtime = ""
    var runtimeRoot = ""
    var bundle = ""
    var tty = false
    var stdin = false
    /// no, always, unless-stopped, on-failure[:N]
    var restart = "no"
    /// Run (exec) after the container has ended for good: `caisson rm -f ID` for --rm.
    var onExit: [String] = []
    /// The engine's event log, for `die` events.
    var events = ""
    /// Where the container's output goes (default: container.log in the directory).
    var logPath = ""
    var logFormat = ContainerLog.Format.jsonFile
    /// json-file rotation (docker's max-size and max-file); 0 bytes: none.
    var logMaxSize = 0
    var logMaxFiles = 1
    /// A cgroup file with an `oom_kill N` line (v1 memory.oom_control, v2 memory.events),
    /// read when the container ends: N > 0 marks the exit as an OOM kill.
    var oomFile = ""
    /// KEY=VALUE attributes of our events (the container's name and image).
    var eventAttributes: [(String, String)] = []
    /// The health check to run (`--health-*`), if any.
    var health = HealthSettings()

    init(_ arguments: [String]) throws(SysError) {
        var index = 0
        func value() throws(SysError) -> String {
            index += 1
            guard index < arguments.count else { throw SysError("missing value for \(arguments[index - 1])", errno: EINVAL) }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--dir": directory = try value()
            case "--id": id = try value()
            case "--runtime": runtime = try value()
            case "--runtime-root": runtimeRoot = try value()
            case "--bundle": bundle = try value()
            case "--tty": tty = true
            case "--stdin": stdin = true
            case "--restart": restart = try value()
            case "--on-exit": onExit.append(try value())
            case "--events": events = try value()
            case "--log-path": logPath = try value()
            case "--log-format":
                let name = try value()
                guard let format = ContainerLog.Format(rawValue: name) else {
                    throw SysError("unknown log format \(name) (json-file or cri)", errno: EINVAL)
                }
                logFormat = format
            case "--oom-file": oomFile = try value()
            case "--log-max-size":
                guard let bytes = Int(try value()), bytes >= 0 else { throw SysError("--log-max-size takes a number of bytes", errno: EINVAL) }
                logMaxSize = bytes
            case "--log-max-files":
                guard let files = Int(try value()), files >= 1 else { throw SysError("--log-max-files takes a number above 0", errno: EINVAL) }
                logMaxFiles = files
            case "--event-attribute":
                let pair = try value().split(separator: "=", maxSplits: 1).map(String.init)
                eventAttributes.append((pair[0], pair.count > 1 ? pair[1] : ""))
            default:
                guard try health.take(arguments[index], value) else {
                    throw SysError("unknown option \(arguments[index])", errno: EINVAL)
                }
            }
            index += 1
        }
        guard !directory.isEmpty, !id.isEmpty, !runtime.isEmpty, !bundle.isEmpty else {
            throw SysError("--dir, --id, --runtime and --bundle are required", errno: EINVAL)
        }
    }
}

/// A container's monitor, the counterpart of conmon or a containerd shim: the parent of
/// the container (a child subreaper), holder of its stdio, writer of its log and of its
/// exit status, server of the attach socket, keeper of its restart policy. It is started
/// by `caisson` in a new session and outlives it. Single-threaded: poll(2) and signalfd.
final class Monitor {
    let options: MonitorOptions
    /// Reports to the `caisson` that started us (fd 3): "created PID", "started", "error: ...".
    private var sync: Int32 = 3
    private var listener: Int32 = -1
    private var signals: Int32 = -1
    private var clients: [Int32: (reader: AttachFrameReader, wantsStdin: Bool, removes: Bool)] = [:]
    /// Clients that got the exit status and said they remove the container themselves.
    private var removers: [Int32] = []
    private var outputs: [(fd: Int32, stream: String)] = []
    private var containerStdin: Int32 = -1
    private var ptyMaster: Int32 = -1
    private var log: ContainerLog?
    private let events: EventAppender
    /// The health checks, when the container has one.
    private var health: HealthMonitor?

    init(options: MonitorOptions) {
        self.options = options
        events = EventAppender(path: options.events, id: options.id, attributes: options.eventAttributes,
                               networksFile: options.directory + "/event-networks")
    }

    private func path(_ name: String) -> String { options.directory + "/" + name }

    private func report(_ line: String) {
        guard sync >= 0 else { return }
        try? Files.writeAll(fd: sync, bytes: Array((line + "\n").utf8))
    }

    private func runtime(_ arguments: [String]) -> [String] {
        [options.runtime] + (options.runtimeRoot.isEmpty ? [] : ["--root", options.runtimeRoot]) + arguments
    }

    func run() -> Never {
        _ = caisson_prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0)
        signal(SIGPIPE, SIG_IGN)
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in [SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1] { sigaddset(&mask, signal) }
        sigprocmask(SIG_BLOCK, &mask, nil)
        signals = caisson_signalfd_all()
        try? Files.write(path("monitor.pid"), String(getpid()))
        // Sockets are bound by relative name in the container's directory: its absolute
        // path may be longer than a socket address holds (108 bytes).
        guard chdir(options.directory) == 0 else {
            report("error: \(SysError("chdir", path: options.directory))")
            exit(1)
        }
        do {
            log = try ContainerLog(path: options.logPath.isEmpty ? path("container.log") : options.logPath,
                                   format: options.logFormat, maxSize: options.logMaxSize, maxFiles: options.logMaxFiles)
            listener = try UnixSocket.listen("attach.sock")
        } catch {
            report("error: \(error)")
            exit(1)
        }
        if options.health.isEnabled {
            health = HealthMonitor(settings: options.health, runtime: runtime([]), id: options.id,
                                   directory: options.directory, events: events)
        }
        var restarts = 0
        var first = true
        while true {
            let initPID: Int32
            do {
                initPID = try create()
            } catch {
                if first { report("error: \(error.description)") } else { recordExit(127) }
                finish(deleteContainer: false)
            }
            if first {
                report("created \(initPID)")
                guard waitForStartCommand() else {
                    deleteContainer()
                    finish(deleteContainer: false)
                }
            }
            let started: (status: Int32, output: [UInt8], error: [UInt8]) =
                (try? Spawn.capture(runtime(["start", options.id]))) ?? (1, [], Array("cannot run the runtime".utf8))
            if started.status != 0 {
                let message = String(decoding: started.error, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "start failed"
                if first { report("error: \(message)") }
                deleteContainer()
                recordExit(127)
                finish(deleteContainer: false)
            }
            health?.containerStarted(initPID: initPID)
            try? Files.write(path("started"), "\(initPID) \(Clock.rfc3339Now())\n")
            unlink(path("exit"))
            if first {
                report("started")
                close(sync)
                sync = -1
                first = false
            } else {
                // A restart by the policy: dockerd's events for it (the engine records the first start's).
                events.networks("connect")
                events.append("start")
            }
            let code = relayUntilExit(initPID)
            recordExit(code, oomKilled: oomKilled())
            // Clients hear of the exit now; one that removes the container (run --rm)
            // leaves the runtime's state to this delete and waits for us to exit.
            announceExit(code)
            health?.reapLeftovers()
            deleteContainer()
            guard shouldRestart(code: code, restarts: restarts) else { break }
            restarts += 1
            try? Files.write(path("restarts"), String(restarts))
            Clock.sleep(milliseconds: min(100 << min(restarts, 6), 5000))
            if Files.exists(path("stop-requested")) { break }
        }
        finish(deleteContainer: false)
    }

    /// A new descriptor of /dev/null; the caller closes it.
    private func openDevNull() -> Int32 {
        open("/dev/null", O_RDWR | O_CLOEXEC)
    }

    /// `runtime delete --force`, its output discarded.
    private func deleteContainer() {
        let null = openDevNull()
        defer { close(null) }
        _ = try? Spawn.run(runtime(["delete", "--force", options.id]), Spawn.Options(stdin: null, stdout: null, stderr: null))
    }

    private func shouldRestart(code: Int32, restarts: Int) -> Bool {
        if Files.exists(path("stop-requested")) { return false }
        // `update --restart` (docker update) writes the new policy beside the container.
        let policy = (try? Files.readTrimmed(path("restart-policy"))) ?? options.restart
        if policy == "always" || policy == "unless-stopped" { return true }
        if policy.hasPrefix("on-failure") {
            guard code != 0 else { return false }
            let parts = policy.split(separator: ":")
            if parts.count == 2, let limit = Int(parts[1]) { return restarts < limit }
            return true
        }
        return false
    }

    /// Whether the kernel's OOM killer struck in the container's cgroup (read before the
    /// runtime's delete removes it).
    private func oomKilled() -> Bool {
        guard !options.oomFile.isEmpty, let text = try? Files.readString(options.oomFile) else { return false }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "oom_kill", let count = Int(fields[1]) { return count > 0 }
        }
        return false
    }

    /// The exit file: "CODE TIME" or "CODE TIME oom".
    private func recordExit(_ code: Int32, oomKilled: Bool = false) {
        try? Files.write(path("exit.tmp"), "\(code) \(Clock.rfc3339Now())\(oomKilled ? " oom" : "")\n")
        rename(path("exit.tmp"), path("exit"))
        if oomKilled { events.append("oom", []) }  // dockerd's, before the die
        events.append("die", [("exitCode", String(code))])
        events.networks("disconnect")
    }

    /// Waits (up to 30 s) until the clients that said they remove the container have
    /// hung up; true if they did so and the container's bundle is gone.
    private func removedByClient() -> Bool {
        guard !removers.isEmpty else { return false }
        let deadline = Clock.monotonicMilliseconds() + 30_000
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !removers.isEmpty, Clock.monotonicMilliseconds() < deadline {
            var fds = removers.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), 1000) < 0 && errno != EINTR { break }
            for entry in fds where entry.revents != 0 {
                if read(entry.fd, &buffer, buffer.count) <= 0 {
                    close(entry.fd)
                    removers.removeAll { $0 == entry.fd }
                }
            }
        }
        for fd in removers { close(fd) }
        removers = []
        return !Files.exists(options.directory + "/bundle")
    }

    /// Cleans up and, for --rm, becomes `caisson rm` (unless the attached `caisson run`
    /// removed the container itself).
    private func finish(deleteContainer: Bool) -> Never {
        for fd in clients.keys { close(fd) }
        if !options.onExit.isEmpty, removedByClient() {
            unlink(path("monitor.pid"))
            exit(0)
        }
        unlink(path("attach.sock"))
        unlink(path("monitor.pid"))
        if let program = options.onExit.first {
            let arguments = CStringArray(options.onExit)
            let environment = CStringArray(Processes.currentEnvironment())
            sigset_t.unblockAll()
            execve(program, arguments.pointers, environment.pointers)
        }
        exit(0)
    }

    // MARK: Creating the container

    /// `runtime create` with our pipes (or a console socket) as the container's stdio.
    private func create() throws(SysError) -> Int32 {
        for (fd, _) in outputs { close(fd) }
        outputs = []
        if containerStdin >= 0 { close(containerStdin); containerStdin = -1 }
        if ptyMaster >= 0 { close(ptyMaster); ptyMaster = -1 }
        unlink(path("init.pid"))
        var errors: [Int32] = [-1, -1]
        guard caisson_pipe2(&errors, O_CLOEXEC) == 0 else { throw SysError("pipe") }
        defer { close(errors[0]) }
        var arguments = ["create", "--bundle", options.bundle, "--pid-file", path("init.pid")]
        var spawnOptions = Spawn.Options()
        var toClose: [Int32] = [errors[1]]
        var console: Int32 = -1
        if options.tty {
            console = try UnixSocket.listen("console.sock")
            // A short absolute name for it, through our cwd: runc changes into the bundle
            // before connecting, so a relative name would not do.
            arguments += ["--console-socket", "/proc/\(getpid())/cwd/console.sock"]
            let null = openDevNull()
            toClose.append(null)
            spawnOptions = Spawn.Options(stdin: null, stdout: null, stderr: errors[1])
        } else {
            var out: [Int32] = [-1, -1]
            var err: [Int32] = [-1, -1]
            var input: [Int32] = [-1, -1]
            guard caisson_pipe2(&out, O_CLOEXEC) == 0, caisson_pipe2(&err, O_CLOEXEC) == 0 else { throw SysError("pipe") }
            if options.stdin {
                guard caisson_pipe2(&input, O_CLOEXEC) == 0 else { throw SysError("pipe") }
                containerStdin = input[1]
                toClose.append(input[0])
            } else {
                input[0] = openDevNull()
                toClose.append(input[0])
            }
            outputs = [(out[0], "stdout"), (err[0], "stderr")]
            toClose += [out[1], err[1]]
            spawnOptions = Spawn.Options(stdin: input[0], stdout: out[1], stderr: err[1])
            // The runtime's own errors: on a separate pipe, via --log below.
        }
        arguments = ["--log", path("runtime.log"), "--log-format", "text"] + arguments + [options.id]
        unlink(path("runtime.log"))
        let status: Int32
        do {
            status = try Spawn.run(runtime(arguments), spawnOptions)
        } catch {
            toClose.forEach { close($0) }
            if console >= 0 { close(console) }
            throw error
        }
        toClose.forEach { close($0) }
        if status != 0 {
            if console >= 0 { close(console) }
            let text = (try? Files.readString(path("runtime.log"))) ?? ""
            let last = text.split(separator: "\n").last.map(String.init) ?? "exit status \(status)"
            throw SysError(Monitor.message(of: last), errno: 0)
        }
        if options.tty {
            defer { close(console); unlink(path("console.sock")) }
            let connection = Monitor.accept(console)
            guard connection >= 0 else { throw SysError("accept console socket") }
            defer { close(connection) }
            var byte: UInt8 = 0
            var received: Int32 = -1
            _ = caisson_recv_fd(connection, &byte, 1, &received)
            guard received >= 0 else { throw SysError("the runtime sent no terminal", errno: EPROTO) }
            _ = caisson_fcntl_int(received, F_SETFD, FD_CLOEXEC)
            ptyMaster = received
            outputs = [(received, "stdout")]
        }
        guard let text = try? Files.readTrimmed(path("init.pid")), let pid = Int32(text) else {
            throw SysError("the runtime wrote no pid file", path: path("init.pid"), errno: ENOENT)
        }
        return pid
    }

    /// The message of a runtime log line ("time=... level=error msg=\"...\"" or plain).
    static func message(of line: String) -> String {
        let bytes = Array(line.utf8)
        let marker = Array("msg=\"".utf8)
        guard bytes.count >= marker.count,
              let start = (0...(bytes.count - marker.count)).first(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) }) else {
            return line
        }
        var text = String(decoding: bytes[(start + marker.count)...], as: UTF8.self)
        if text.hasSuffix("\"") { text.removeLast() }
        return text.replacingEscapedQuotes()
    }

    /// accept(2), close-on-exec.
    static func accept(_ listener: Int32) -> Int32 {
        let fd = Glibc.accept(listener, nil, nil)
        if fd >= 0 { _ = caisson_fcntl_int(fd, F_SETFD, FD_CLOEXEC) }
        return fd
    }

    // MARK: Start handshake

    /// Waits for "start" from the CLI on the sync pipe, accepting attach clients meanwhile
    /// (a foreground `run` attaches before the container starts, so no output is lost).
    private func waitForStartCommand() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            var fds = [pollfd(fd: sync, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            for fd in clients.keys { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 { if errno == EINTR { continue }; return false }
            if fds[1].revents != 0 { acceptClient() }
            for entry in fds.dropFirst(2) where entry.revents != 0 { serviceClient(entry.fd) }
            if fds[0].revents != 0 {
                let n = read(sync, &buffer, buffer.count)
                if n <= 0 { return false }
                if String(decoding: buffer[0..<n], as: UTF8.self).contains("start") { return true }
            }
        }
    }

    // MARK: Relaying

    private func acceptClient() {
        let fd = Monitor.accept(listener)
        if fd >= 0 { clients[fd] = (AttachFrameReader(), false, false) }
    }

    private func dropClient(_ fd: Int32) {
        close(fd)
        clients[fd] = nil
    }

    private func serviceClient(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0, var state = clients[fd] else { dropClient(fd); return }
        state.reader.feed(buffer[0..<n])
        while true {
            let frame: AttachFrame?
            do { frame = try state.reader.next() } catch { dropClient(fd); return }
            guard let frame else { break }
            switch frame {
            case .hello(let wantsStdin, let removes):
                state.wantsStdin = wantsStdin
                state.removes = removes
            case .stdin(let data):
                let target = ptyMaster >= 0 ? ptyMaster : containerStdin
                if target >= 0 { try? Files.writeAll(fd: target, bytes: data) }
            case .stdinClosed:
                if containerStdin >= 0 { close(containerStdin); containerStdin = -1 }
            case .resize(let rows, let columns):
                if ptyMaster >= 0 { _ = caisson_set_winsize(ptyMaster, rows, columns) }
            default: break
            }
        }
        clients[fd] = state
    }

    private func broadcast(_ frame: AttachFrame) {
        let bytes = frame.encoded()
        for fd in Array(clients.keys) {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { if errno == EINTR { continue }; dropClient(fd); break }
                offset += sent
            }
        }
    }

    /// Relays output to the log and to attached clients until the container's init exits
    /// and its output is drained; returns the exit status (128+N for a signal).
    private func relayUntilExit(_ initPID: Int32) -> Int32 {
        var exitCode: Int32?
        var drainDeadline: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if exitCode != nil && (outputs.isEmpty || Clock.monotonicMilliseconds() > drainDeadline) { break }
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            for (fd, _) in outputs { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let clientFDs = Array(clients.keys)
            for fd in clientFDs { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let probeOutput = health?.outputFD
            if let probeOutput { fds.append(pollfd(fd: probeOutput, events: Int16(POLLIN), revents: 0)) }
            let timeout: Int32 = exitCode == nil ? (health?.pollTimeout ?? -1) : 50
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 { if errno == EINTR { continue }; break }
            if probeOutput != nil, fds[fds.count - 1].revents != 0 { health?.outputReady() }
            if fds[0].revents != 0 {
                let signal = caisson_signalfd_read(signals)
                if signal == SIGUSR1 { try? log?.reopen() }
                if signal == SIGCHLD {
                    var status: Int32 = 0
                    while true {
                        let pid = waitpid(-1, &status, WNOHANG)
                        if pid <= 0 { break }
                        if pid == initPID {
                            exitCode = Processes.exitStatus(fromWaitStatus: status)
                            drainDeadline = Clock.monotonicMilliseconds() + 500
                            health?.containerStopped()
                        } else {
                            _ = health?.reaped(pid, status: status)
                        }
                    }
                }
            }
            if fds[1].revents != 0 { acceptClient() }
            var closed: [Int32] = []
            for (offset, (fd, stream)) in outputs.enumerated() where fds[2 + offset].revents != 0 {
                let n = read(fd, &buffer, buffer.count)
                if n > 0 {
                    let data = Array(buffer[0..<n])
                    log?.write(data, stream: stream)
                    broadcast(stream == "stderr" ? .stderr(data) : .stdout(data))
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    closed.append(fd)
                }
            }
            for fd in closed {
                close(fd)
                outputs.removeAll { $0.fd == fd }
                if fd == ptyMaster { ptyMaster = -1 }
            }
            let clientBase = 2 + outputs.count + closed.count
            for (offset, fd) in clientFDs.enumerated() where clientBase + offset < fds.count && fds[clientBase + offset].revents != 0 {
                serviceClient(fd)
            }
            if exitCode == nil { health?.tick() }
        }
        log?.flush()
        for (fd, _) in outputs { close(fd) }
        outputs = []
        if ptyMaster >= 0 { close(ptyMaster); ptyMaster = -1 }
        if containerStdin >= 0 { close(containerStdin); containerStdin = -1 }
        return exitCode ?? 255
    }

    /// Sends the exit status to attached clients; those that remove the container
    /// themselves are waited for at the end, the others are dropped.
    private func announceExit(_ code: Int32) {
        broadcast(.exit(code))
        for fd in Array(clients.keys) {
            if clients[fd]?.removes == true {
                clients[fd] = nil
                removers.append(fd)
            } else {
                dropClient(fd)
            }
        }
    }
}

extension sigset_t {
    static func unblockAll() {
        var mask = sigset_t()
        sigfillset(&mask)
        sigprocmask(SIG_UNBLOCK, &mask, nil)
    }
}

extension String {
    func replacingEscapedQuotes() -> String {
        var out = ""
        var escaped = false
        for c in self {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}
