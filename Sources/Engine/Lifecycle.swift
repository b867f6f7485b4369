#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import Dispatch
import ImageSpec
import Images
import Synchronization

typealias NetworkJob = BackgroundJob<ContainerRecord, EngineError>

/// A monitor that has created the container and waits for the word to start it.
public struct PendingStart: Sendable {
    public let record: ContainerRecord
    /// The network attachment still in progress, if any.
    let network: NetworkJob?
    public let initPID: Int32
    /// Our end of the socket pair the monitor reports on (its fd 3).
    let channel: Int32

    /// The attach socket, to connect before `finishStart` so no output is missed.
    public let attachSocket: String
    /// The networks the start's `network connect` events name.
    let eventNetworks: [EventNetwork]
}

extension ContainerEngine {
    // MARK: Start

    /// Sets up the network, starts the monitor and has it create the container; the
    /// container does not run until `finishStart`.
    public func beginStart(_ id: String) throws(EngineError) -> PendingStart {
        let record = try find(id)
        let current = state(of: record)
        if current.isRunning { throw .invalid("container \(record.name) is already running") }
        if current.monitorPID != nil {
            // The monitor of a start whose caller died before saying "start": it deletes
            // the created container and exits; the new one may create it only then.
            if !waitForMonitor(record, timeoutMilliseconds: 5000) {
                throw .invalid("container \(record.name) is still being started or cleaned up by its monitor; try again")
            }
        }
        try ensureRootfsMounted(record)
        try refreshSpecForStart(record)
        var job: NetworkJob? = earlyNetworks.withLock { $0.removeValue(forKey: record.id) }
        if job == nil, let network = try prepareNamespace(record) {
            let pending = record
            job = NetworkJob { [self] () throws(EngineError) -> ContainerRecord in try attach(pending, to: network) }
        }
        let directory = directory(of: record.id)
        for name in ["exit", "started", "stop-requested", "restarts", "restart-policy", ContainerEngine.startErrorFile] {
            unlink(directory + "/" + name)
        }
        var arguments = [options.monitorPath, "--dir", directory, "--id", record.id, "--runtime", record.runtimePath,
                         "--runtime-root", runtimeRoot(for: record.runtimePath), "--bundle", bundle(of: record.id),
                         "--restart", record.config.restart]
        if record.config.tty { arguments.append("--tty") }
        if record.config.interactive { arguments.append("--stdin") }
        if let oom = ContainerEngine.oomFile(cgroupsPath: "/caisson/" + record.id) { arguments += ["--oom-file", oom] }
        arguments += ["--events", events.path, "--event-attribute", "image=" + record.config.image,
                      "--event-attribute", "name=" + record.name]
        let joined = writeEventNetworks(record)
        // docker's container events carry the container's labels too.
        for (key, value) in record.config.labels.sorted(by: { $0.key < $1.key }) where key != "image" && key != "name" {
            arguments += ["--event-attribute", key + "=" + value]
        }
        if let check = record.config.healthcheck, check.isActive {
            let shell = check.Test?.first == "CMD-SHELL" ? imageRunConfig(record)?.Shell : nil
            arguments += check.monitorArguments(shell: shell)
        }
        if let rotation = record.config.logRotation {
            arguments += ["--log-max-size", String(rotation.maxSize), "--log-max-files", String(rotation.maxFiles)]
        }
        if record.config.autoRemove {
            // Options follow the command name (each command takes the global options).
            for argument in [options.caissonPath, "rm", "-f", "-v"] + options.caissonGlobalArguments + [record.id] {
                arguments += ["--on-exit", argument]
            }
        }
        let channel: Int32
        do {
            channel = try MonitorLaunch.start(arguments)
        } catch {
            if let job, let attached = try? job.wait() { tearDownNetwork(attached) }
            throw .system(error)
        }
        let reply = Files.readLine(fd: channel)
        guard let pid = MonitorLaunch.createdPID(reply) else {
            close(channel)
            if let job, let attached = try? job.wait() { tearDownNetwork(attached) }
            throw recordStartFailure(record, ContainerEngine.startFailure(reply))
        }
        return PendingStart(record: record, network: job, initPID: pid, channel: channel, attachSocket: directory + "/attach.sock",
                            eventNetworks: joined)
    }

    /// Tells the monitor to start the container and waits until it has.
    public func finishStart(_ pending: PendingStart) throws(EngineError) {
        defer { close(pending.channel) }
        if let job = pending.network {
            // Closing the channel without "start" makes the monitor delete the container.
            _ = try job.wait()
        }
        // Names first: the container may look its peers up as soon as it runs.
        refreshHosts(network: pending.record.config.network)
        // Recorded first: a short-lived container's `die` may otherwise come before it.
        for network in pending.eventNetworks { networkEvent("connect", network, container: pending.record.id) }
        event("start", pending.record)
        try? Files.writeAll(fd: pending.channel, bytes: Array("start\n".utf8))
        let reply = Files.readLine(fd: pending.channel)
        guard reply == "started" else { throw recordStartFailure(pending.record, ContainerEngine.startFailure(reply)) }
    }

    static let startErrorFile = "start-error"

    /// Keeps why a start failed for `inspect` (State.Error, and State.ExitCode as docker
    /// sets it: 127 for a missing command, 126 for one that cannot run, 128 otherwise).
    func recordStartFailure(_ record: ContainerRecord, _ error: EngineError) -> EngineError {
        let code: Int32
        switch error {
        case .commandNotFound: code = 127
        case .commandNotExecutable: code = 126
        default: code = 128
        }
        try? Files.write(directory(of: record.id) + "/" + ContainerEngine.startErrorFile, "\(code) \(error.description)")
        return error
    }

    public func start(_ id: String) throws(EngineError) {
        try finishStart(try beginStart(id))
    }

    /// docker's exit codes for a container that could not start: 127 when the command
    /// does not exist, 126 when it cannot be executed.
    static func startFailure(_ reply: String) -> EngineError {
        var message = reply.hasPrefix("error: ") ? String(reply.dropFirst(7)) : reply
        if message.isEmpty { message = "the container monitor ended without a report" }
        let lower = Text.asciiLowercased(message)
        if lower.contains("no such file") || lower.contains("not found") {
            return .commandNotFound("failed to create the container: \(message)")
        }
        if lower.contains("permission denied") || lower.contains("is a directory") {
            return .commandNotExecutable("failed to create the container: \(message)")
        }
        return .runtime("failed to start the container: \(message)")
    }


    // MARK: Stop, kill, wait

    /// Waits until the container's monitor has ended (the container exited and was
    /// cleaned up by it); false on timeout.
    public func waitForMonitor(_ record: ContainerRecord, timeoutMilliseconds: Int64) -> Bool {
        let deadline = Clock.monotonicMilliseconds() + timeoutMilliseconds
        while Clock.monotonicMilliseconds() < deadline {
            if state(of: record).monitorPID == nil { return true }
            Clock.sleep(milliseconds: 10)
        }
        return false
    }

    /// Signal, then SIGKILL after `timeout` seconds; the restart policy does not apply.
    public func stop(_ id: String, timeout: Int?, signal: String? = nil) throws(EngineError) {
        let record = try find(id)
        guard state(of: record).isRunning else { return }
        try? Files.write(directory(of: record.id) + "/stop-requested", "")
        let name = signal ?? record.config.stopSignal ?? stopSignalOfImage(record) ?? "SIGTERM"
        if state(of: record).status == .paused { _ = try? runtime(record, ["resume", record.id]) }
        // docker's `kill` events for the signals a stop sends, each before it is sent (so
        // before the `die` it may cause), with the signal's number.
        event("kill", record, ["signal": String((try? Signals.parse(name)) ?? SIGTERM)])
        _ = try? runtime(record, ["kill", record.id, name])
        let seconds = Int64(timeout ?? record.config.stopTimeout ?? 10)
        defer { event("stop", record) }
        if waitForMonitor(record, timeoutMilliseconds: seconds * 1000) { return }
        event("kill", record, ["signal": String(SIGKILL)])
        _ = try? runtime(record, ["kill", "--all", record.id, "KILL"])
        _ = try? runtime(record, ["kill", record.id, "KILL"])
        if !waitForMonitor(record, timeoutMilliseconds: 10_000) {
            throw .runtime("container \(record.name) did not stop")
        }
    }

    func stopSignalOfImage(_ record: ContainerRecord) -> String? {
        imageRunConfig(record)?.StopSignal
    }

    /// The run settings of the container's image (its stop signal, its SHELL), if the
    /// image is still here.
    func imageRunConfig(_ record: ContainerRecord) -> ImageConfig.RunConfig? {
        guard let image = try? images.list().first(where: { $0.id == record.imageID }) else { return nil }
        return (try? images.config(of: image))?.config
    }

    public func kill(_ id: String, signal: String) throws(EngineError) {
        let record = try find(id)
        guard state(of: record).isRunning else { throw .notRunning(record.name) }
        let number: Int32
        do {
            number = try Signals.parse(signal)
        } catch {
            throw .invalid("invalid signal: \(signal)")
        }
        try? Files.write(directory(of: record.id) + "/stop-requested", "")
        // Before the signal (so before the `die` it may cause), with its number as dockerd's.
        event("kill", record, ["signal": String(number)])
        try runtime(record, ["kill", record.id, signal])
    }

    public func pause(_ id: String) throws(EngineError) {
        let record = try find(id)
        let status = state(of: record).status
        if status == .paused { throw .invalid("Container \(record.id) is already paused") }
        guard status == .running else { throw .notRunning(record.name) }
        try runtime(record, ["pause", record.id])
        event("pause", record)
    }

    public func unpause(_ id: String) throws(EngineError) {
        let record = try find(id)
        guard state(of: record).status == .paused else { throw .invalid("Container \(record.name) is not paused") }
        try runtime(record, ["resume", record.id])
        event("unpause", record)
    }

    public func rename(_ id: String, to name: String) throws(EngineError) {
        var record = try find(id)
        guard ContainerEngine.isValidName(name) else {
            throw .invalid("Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        let oldName = record.name
        if name == oldName { throw .invalid("Renaming a container with the same name as its current name") }
        record.name = name
        try store.update(record)
        event("rename", record, ["oldName": oldName])
        refreshHosts(network: record.config.network)
    }

    /// Runs the OCI runtime; throws its last error line.
    @discardableResult
    public func runtime(_ record: ContainerRecord, _ arguments: [String]) throws(EngineError) -> [UInt8] {
        let result: (status: Int32, output: [UInt8], error: [UInt8])
        do { result = try Spawn.capture(runtimeCommand(record, arguments)) } catch { throw .system(error) }
        guard result.status == 0 else {
            let message = String(decoding: result.error, as: UTF8.self).split(separator: "\n").last.map(String.init)
                ?? "\(Paths.base(record.runtimePath)) \(arguments.first ?? "") failed"
            throw .runtime(message)
        }
        return result.output
    }

    // MARK: Remove

    /// `run --rm` in the foreground, once the monitor has sent the exit status: the
    /// container has ended (its monitor is finishing), so no kill and no wait.
    /// `run --rm`: removes the container whose exit the monitor has just announced, while
    /// the monitor deletes the runtime's state; `finishRemoval` waits for the monitor.
    public func removeAfterExit(_ id: String) throws(EngineError) -> ContainerRecord {
        let record = try find(id)
        try release(record, monitorFinishing: true)
        removeAnonymousVolumes(of: record)
        return record
    }

    /// After `removeAfterExit` and hanging up: waits (5 s at most) until the monitor has
    /// finished and exited, then removes the cgroup parents left empty.
    public func finishRemoval(monitorPID: Int32?) {
        if let pid = monitorPID {
            let deadline = Clock.monotonicMilliseconds() + 5000
            while ContainerEngine.isLiveMonitor(pid) && Clock.monotonicMilliseconds() < deadline {
                Clock.sleep(milliseconds: 1)
            }
        }
        ContainerEngine.removeEmptyCgroupParents()
    }

    /// Removes a container (killing it first with `force`): runtime state, network,
    /// root filesystem, directory and record; with `volumes`, its anonymous volumes (as
    /// docker's `rm -v`; named volumes stay).
    public func remove(_ id: String, force: Bool, volumes: Bool = false) throws(EngineError) {
        let record = try find(id)
        let current = state(of: record)
        if current.isRunning {
            guard force else { throw .isRunning(record.name) }
            try? Files.write(directory(of: record.id) + "/stop-requested", "")
            if current.status == .paused { _ = try? runtime(record, ["resume", record.id]) }
            event("kill", record, ["signal": String(SIGKILL)])
            _ = try? runtime(record, ["kill", "--all", record.id, "KILL"])
            _ = try? runtime(record, ["kill", record.id, "KILL"])
            _ = waitForMonitor(record, timeoutMilliseconds: 10_000)
        }
        try release(record)
        if volumes { removeAnonymousVolumes(of: record) }
    }

    /// The anonymous volumes of a removed container that no other container mounts.
    func removeAnonymousVolumes(of record: ContainerRecord) {
        let others = (try? store.containers()) ?? []
        for request in record.config.mounts where request.kind == .volume && request.anonymous == true {
            if !others.contains(where: { $0.config.mounts.contains { $0.kind == .volume && $0.source == request.source } }) {
                try? removeVolume(request.source, force: true)
            }
        }
    }

    /// Everything a container holds, released: runtime state, network, root filesystem,
    /// directory, record.
    func release(_ record: ContainerRecord, monitorFinishing: Bool = false) throws(EngineError) {
        // The monitor deletes the runtime's state when the container ends; only a
        // container that never ran under a monitor, or lost it, still has some. A
        // monitor that has just announced the exit is deleting it right now.
        if !monitorFinishing { killOrphanedCreate(record) }
        if !monitorFinishing, Files.exists(runtimeRoot(for: record.runtimePath) + "/" + record.id) {
            _ = try? runtime(record, ["delete", "--force", record.id])
        }
        if let early = earlyNetworks.withLock({ $0.removeValue(forKey: record.id) }) { _ = try? early.wait() }
        // The CNI DEL (plugin runs) goes beside the rest of the clean-up.
        let network = BackgroundJob { [self] () throws(EngineError) -> Bool in
            tearDownNetwork(record)
            return true
        }
        do {
            try images.unmountRootfs(id: record.id, target: bundle(of: record.id) + "/rootfs")
        } catch {
            _ = try? network.wait()
            throw .image(error)
        }
        _ = try? network.wait()
        try? Files.removeTree(directory(of: record.id))
        try store.deleteContainer(record.id)
        if !monitorFinishing { ContainerEngine.removeEmptyCgroupParents() }
        event("destroy", record)
        refreshHosts(network: record.config.network)
    }
}

extension ContainerEngine {
    /// The runtimes make `/caisson/<id>` in every cgroup hierarchy and remove only `<id>`;
    /// the `caisson` parents go when the last container has (rmdir fails while not empty).
    static func removeEmptyCgroupParents() {
        for hierarchy in (try? Files.listDirectory("/sys/fs/cgroup")) ?? [] {
            rmdir("/sys/fs/cgroup/\(hierarchy)/caisson")
        }
        rmdir("/sys/fs/cgroup/caisson")
    }
}

extension ContainerEngine {
    /// After a reboot the overlay of a stopped container is gone (mounts do not survive);
    /// mount it again over the same upper directory, so the container keeps its changes.
    func ensureRootfsMounted(_ record: ContainerRecord) throws(EngineError) {
        guard images.snapshots.driver == .overlay else { return }
        let target = bundle(of: record.id) + "/rootfs"
        let mounts = (try? Files.readString("/proc/self/mounts")) ?? ""
        if mounts.split(separator: "\n").contains(where: { $0.split(separator: " ").dropFirst().first.map(String.init) == target }) {
            return
        }
        guard let image = try? images.list().first(where: { $0.id == record.imageID }) else {
            throw .invalid("the image of container \(record.name) is gone; its root filesystem cannot be mounted")
        }
        do { try images.mountRootfs(image, id: record.id, target: target) } catch { throw .image(error) }
    }
}
