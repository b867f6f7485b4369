#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import CaissonJSON
import CLIFormatting
import CaissonShim
import CaissonSys
import Engine
import ImageSpec
import ImageScanning
import Images
import Registry

/// Makes sure the image is local (pulling it as docker run does) and creates the container.
func createContainer(_ engine: ContainerEngine, _ options: ContainerOptions, global: GlobalOptions, startingSoon: Bool = false) async throws -> ContainerRecord {
    let config = try options.config()
    let present = (try? engine.images.resolve(options.image)) != nil
    if options.pull == "always" || (!present && options.pull == "missing") {
        if !present { writeError("Unable to find image '\(options.image)' locally\n") }
        var platform = Platform.current
        if let text = options.platform {
            do { platform = try Platform(parsing: text) } catch { throw CLIError.usage(error.description) }
        }
        let display = PullDisplay(quiet: false, terminal: false)
        _ = try await withRegistryClient(engine.images) { client in
            try await engine.images.pull(options.image, platform: platform, client: client) { event in
                if case .finished = event { return }
                display.observeToStderr(event)
            }
        }
        engine.events.imagePulled(options.image)
    } else if !present {
        throw EngineError.image(ImageError.notFound(options.image))
    }
    let policy = try global.scanPolicy(options.scanPolicy)
    if policy != .never {
        try global.enforceScanPolicy(policy, service: engine.images, record: try engine.images.resolve(options.image), name: options.image)
    }
    return try engine.create(config, name: options.name, startingSoon: startingSoon)
}

/// `run` and `create` report every failure with docker's 125 (or 126/127 for the command).
func asEngineError<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ImageError {
        throw EngineError.image(error)
    } catch let error as RegistryError {
        throw EngineError.invalid(error.description)
    } catch let error as CLIError {
        if case .failed(let text) = error { throw EngineError.invalid(text) }
        throw error
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Create and run a container.", usage: "caisson run [OPTIONS] IMAGE [COMMAND] [ARG...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Run in the background and print the container id.") var detach = false
    @OptionGroup var options: ContainerOptions

    func run() async throws {
        let engine = try global.engine()
        let record = try await asEngineError { try await createContainer(engine, options, global: global, startingSoon: true) }
        if detach {
            do {
                try engine.start(record.id)
            } catch {
                try? engine.remove(record.id, force: true)
                throw error
            }
            print(record.id)
            return
        }
        let code = try runAttached(engine, record.id, tty: options.tty, stdin: options.interactive,
                                   removesOnExit: options.autoRemove)
        throw ExitCode(code)
    }
}

/// Starts a container with this process attached; returns its exit status. SIGINT and
/// SIGTERM sent to us are passed to the container (docker's --sig-proxy).
func runAttached(_ engine: ContainerEngine, _ id: String, tty: Bool, stdin: Bool, removesOnExit: Bool = false) throws -> Int32 {
    let pending: PendingStart
    do {
        pending = try engine.beginStart(id)
    } catch {
        if let record = try? engine.find(id), record.config.autoRemove { try? engine.remove(id, force: true) }
        throw error
    }
    let client = try AttachClient(socketPath: pending.attachSocket, tty: tty, sendStdin: stdin, removesOnExit: removesOnExit)
    do {
        try engine.finishStart(pending)
    } catch {
        if pending.record.config.autoRemove { try? engine.remove(id, force: true) }
        throw error
    }
    SignalProxy.install(engine: engine, record: pending.record, tty: tty)
    let code = client.run() ?? engine.state(of: pending.record).exitCode ?? 125
    var monitorPID: Int32?
    if removesOnExit {
        // Remove it here (while the monitor deletes the runtime's state), then hang up:
        // the monitor, seeing the bundle gone, skips starting a second `caisson` for --rm,
        // and exits; we wait for that. If we die first, it does the removal instead.
        monitorPID = engine.state(of: pending.record).monitorPID
        _ = try? engine.removeAfterExit(id)
    }
    client.close()
    if removesOnExit { engine.finishRemoval(monitorPID: monitorPID) }
    return code
}

/// Forwards SIGINT, SIGTERM and SIGHUP to the container through the runtime.
enum SignalProxy {
    static func install(engine: ContainerEngine, record: ContainerRecord, tty: Bool) {
        guard !tty else { return }
        SignalPipe.install([SIGINT, SIGTERM, SIGHUP]) { signal in
            _ = try? engine.runtime(record, ["kill", record.id, String(signal)])
        }
    }
}

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container without starting it.", usage: "caisson create [OPTIONS] IMAGE [COMMAND] [ARG...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @OptionGroup var options: ContainerOptions

    func run() async throws {
        let engine = try global.engine()
        print(try await asEngineError { try await createContainer(engine, options, global: global) }.id)
    }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start containers.", usage: "caisson start [OPTIONS] CONTAINER [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Attach to the container's output and return its exit status.") var attach = false
    @Flag(name: .shortAndLong, help: "Attach standard input.") var interactive = false
    @Argument var containers: [String]

    func validate() throws { if containers.isEmpty { throw ValidationError("\"start\" requires at least 1 argument.") } }

    func run() throws {
        let engine = try global.engine()
        if attach {
            guard containers.count == 1 else { throw CLIError.usage("you cannot start and attach multiple containers at once") }
            let record = try engine.find(containers[0])
            throw ExitCode(try runAttached(engine, record.id, tty: record.config.tty, stdin: interactive))
        }
        try forEach(containers) { name in
            try engine.start(name)
            print(name)
        }
    }
}

/// Runs `body` for each name, reporting failures as docker does and exiting 1 if any.
func forEach(_ names: [String], _ body: (String) throws -> Void) throws {
    var failed = false
    for name in names {
        do { try body(name) } catch {
            writeError("Error response from daemon: \(error)\n")
            failed = true
        }
    }
    if failed { throw ExitCode(1) }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop running containers (signal, then SIGKILL).", usage: "caisson stop [OPTIONS] CONTAINER [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: [.customShort("t"), .customLong("time")], help: "Seconds to wait before killing.") var time: Int?
    @Option(name: .shortAndLong, help: "Signal to send first.") var signal: String?
    @Argument var containers: [String]
    func validate() throws { if containers.isEmpty { throw ValidationError("\"stop\" requires at least 1 argument.") } }
    func run() throws {
        let engine = try global.engine()
        try forEach(containers) { name in
            try engine.stop(name, timeout: time, signal: signal)
            print(name)
        }
    }
}

struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart containers.", usage: "caisson restart [OPTIONS] CONTAINER [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: [.customShort("t"), .customLong("time")]) var time: Int?
    @Argument var containers: [String]
    func validate() throws { if containers.isEmpty { throw ValidationError("\"restart\" requires at least 1 argument.") } }
    func run() throws {
        let engine = try global.engine()
        try forEach(containers) { name in
            try engine.stop(name, timeout: time)
            try engine.start(name)
            print(name)
        }
    }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to containers (SIGKILL by default).", usage: "caisson kill [OPTIONS] CONTAINER [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong) var signal = "KILL"
    @Argument var containers: [String]
    func validate() throws { if containers.isEmpty { throw ValidationError("\"kill\" requires at least 1 argument.") } }
    func run() throws {
        let engine = try global.engine()
        try forEach(containers) { name in
            try engine.kill(name, signal: signal)
            print(name)
        }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove containers.", usage: "caisson rm [OPTIONS] CONTAINER [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Kill and remove running containers.") var force = false
    @Flag(name: .shortAndLong, help: "Remove their anonymous volumes.") var volumes = false
    @Argument var containers: [String]
    func validate() throws { if containers.isEmpty { throw ValidationError("\"rm\" requires at least 1 argument.") } }
    func run() throws {
        let engine = try global.engine()
        try forEach(containers) { name in
            try engine.remove(name, force: force, volumes: volumes)
            print(name)
        }
    }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Freeze containers.", usage: "caisson pause CONTAINER [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var containers: [String]
    func run() throws {
        let engine = try global.engine()
        try forEach(containers) { name in try engine.pause(name); print(name) }
    }
}

struct Unpause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Thaw containers.", usage: "caisson unpause CONTAINER [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var containers: [String]
    func run() throws {
        let engine = try global.engine()
        try forEach(containers) { name in try engine.unpause(name); print(name) }
    }
}

struct Rename: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a container.", usage: "caisson rename CONTAINER NEW_NAME")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var container: String
    @Argument var name: String
    func run() throws { try global.engine().rename(container, to: name) }
}

struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait", abstract: "Wait for containers to stop; print their exit codes.", usage: "caisson wait CONTAINER [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var containers: [String]
    func run() throws {
        let engine = try global.engine()
        try forEach(containers) { name in
            let record = try engine.find(name)
            while engine.state(of: record).isRunning { Clock.sleep(milliseconds: 20) }
            print(engine.state(of: record).exitCode ?? 0)
        }
    }
}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a command in a running container.", usage: "caisson exec [OPTIONS] CONTAINER COMMAND [ARG...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong) var interactive = false
    @Flag(name: .shortAndLong) var tty = false
    @Flag(name: .shortAndLong, help: "Run in the background.") var detach = false
    @Option(name: [.customShort("e"), .long]) var env: [String] = []
    @Option(name: [.customShort("u"), .long]) var user: String?
    @Option(name: [.customShort("w"), .long]) var workdir: String?
    @Flag var privileged = false
    @Argument var container: String
    @Argument(parsing: .captureForPassthrough) var command: [String] = []

    func run() throws {
        guard !command.isEmpty else { throw CLIError.usage("\"exec\" requires at least 2 arguments.") }
        let engine = try global.engine()
        let record = try engine.find(container)
        let state = engine.state(of: record)
        guard state.status == .running else {
            if state.status == .paused { throw EngineError.invalid("Container \(record.name) is paused, unpause the container before exec") }
            throw EngineError.notRunning(record.name)
        }
        var arguments = ["exec"]
        if tty { arguments.append("--tty") }
        if detach { arguments.append("--detach") }
        for item in env { arguments += ["--env", try ContainerOptions.environmentEntry(item)] }
        if let workdir { arguments += ["--cwd", workdir] }
        if let user {
            // The runtime takes numeric ids: resolve names through the container's files.
            let resolved = try UserResolver(rootfs: engine.bundle(of: record.id) + "/rootfs").resolve(user)
            arguments += ["--user", "\(resolved.uid):\(resolved.gid)"]
        }
        if privileged {
            for cap in ["CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE"] { arguments += ["--cap", cap] }
        }
        arguments += [record.id] + command
        try ExecutableCheck.verify(command[0], rootfs: engine.bundle(of: record.id) + "/rootfs",
                                   environment: record.config.env)
        let status = try Spawn.run(engine.runtimeCommand(record, arguments),
                                   Spawn.Options(stdin: interactive || tty ? nil : open("/dev/null", O_RDONLY | O_CLOEXEC)))
        if status != 0 { throw ExitCode(status) }
    }
}

struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Show a container's output.", usage: "caisson logs [OPTIONS] CONTAINER")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Follow new output until the container stops.") var follow = false
    @Option(name: [.customShort("n"), .long], help: "Lines from the end (or all).") var tail = "all"
    @Flag(name: .shortAndLong, help: "Show timestamps.") var timestamps = false
    @Option(help: "Only output since this time (RFC 3339) or duration (10m, 1h30m).") var since: String?
    @Option(help: "Only output before this time (RFC 3339) or duration ago (10m, 1h30m).") var until: String?
    @Argument var container: String

    func run() throws {
        let engine = try global.engine()
        let record = try engine.find(container)
        let limit: Int? = tail == "all" ? nil : Int(tail)
        if tail != "all", limit == nil || limit! < 0 { throw CLIError.usage("invalid --tail \"\(tail)\"") }
        var window = LogWindow()
        if let since {
            guard let parsed = LogReader.parseSince(since) else { throw CLIError.usage("invalid --since \"\(since)\"") }
            window.since = Double(parsed)
        }
        if let until {
            guard let parsed = LogReader.parseSince(until) else { throw CLIError.usage("invalid --until \"\(until)\"") }
            window.until = Double(parsed)
        }
        var reader = LogReader(cursor: engine.logCursor(of: record), timestamps: timestamps, window: window)
        reader.printExisting(tail: limit)
        guard follow else { return }
        while true {
            let running = engine.state(of: record).isRunning && !window.hasEnded(now: Clock.epochSeconds())
            if !reader.printNew() && !running { return }
            if !running { _ = reader.printNew(); return }
            Clock.sleep(milliseconds: 50)
        }
    }
}

/// Prints docker json-file logs (the engine's `LogCursor` reads them).
struct LogReader {
    var cursor: LogCursor
    let timestamps: Bool
    let window: LogWindow

    init(cursor: LogCursor, timestamps: Bool, window: LogWindow) {
        self.cursor = cursor
        self.timestamps = timestamps
        self.window = window
    }

    static func parseSince(_ text: String) -> Int64? {
        TimeExpression.epoch(text, now: Int64(time(nil)))
    }

    private func emit(_ entry: LogEntry) {
        guard window.contains(entry) else { return }
        AttachClient.write(entry.stream == .stderr ? 2 : 1, Array(((timestamps ? entry.time + " " : "") + entry.text).utf8))
    }

    mutating func printExisting(tail: Int?) {
        var entries = cursor.readAll()
        if let tail { entries = Array(entries.suffix(tail)) }
        fflush(nil)
        for entry in entries { emit(entry) }
    }

    /// Prints what was appended; false when nothing was.
    mutating func printNew() -> Bool {
        let entries = cursor.readNew()
        for entry in entries { emit(entry) }
        return !entries.isEmpty
    }
}

struct Attach: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "attach", abstract: "Attach to a running container's output (and input).", usage: "caisson attach [OPTIONS] CONTAINER")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .customLong("no-stdin"), help: "Do not send standard input.") var noStdin = false
    @Argument var container: String

    func run() throws {
        let engine = try global.engine()
        let record = try engine.find(container)
        guard engine.state(of: record).isRunning else {
            throw EngineError.invalid("You cannot attach to a stopped container, start it first")
        }
        let client = try AttachClient(socketPath: engine.directory(of: record.id) + "/attach.sock", tty: record.config.tty,
                                      sendStdin: record.config.interactive && !noStdin)
        throw ExitCode(client.run() ?? engine.state(of: record).exitCode ?? 0)
    }
}
