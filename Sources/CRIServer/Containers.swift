#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import CRIProto
import Engine
import Images
import OCISpec

/// Pod containers: created with a root filesystem and a bundle, run by the OCI runtime
/// under a `caisson-monitor` that writes the CRI log, stopped, removed, reported.
extension PodManager {
    // MARK: Create

    public func createContainer(sandboxID: String, config: Runtime_V1_ContainerConfig,
                                sandboxConfig: Runtime_V1_PodSandboxConfig) throws(CRIError) -> String {
        guard config.hasMetadata, !config.metadata.name.isEmpty else {
            throw .invalid("the container config needs metadata with a name")
        }
        guard config.hasImage, !config.image.image.isEmpty else { throw .invalid("the container config names no image") }
        let sandbox = try store.sandbox(sandboxID).record
        guard let pausePID = pausePID(sandbox), !sandbox.stopped else {
            throw .failedPrecondition("pod sandbox \(sandbox.id) is not ready")
        }
        let image: ImageRecord
        do {
            image = try images.resolve(config.image.image)
        } catch {
            throw .notFound("image \"\(config.image.image)\" is not present: \(error)")
        }
        let id = ContainerEngine.randomID()
        let name = "container:" + sandbox.id + ":" + config.metadata.name
        try store.reserve(name, for: id)
        let directory = store.containerDirectory(id)
        let rootfs = directory + "/bundle/rootfs"
        let cgroupsPath = cgroupsPath(parent: sandbox.cgroupParent, id: id)
        var logPath = ""
        if !config.logPath.isEmpty {
            logPath = config.logPath.hasPrefix("/") ? config.logPath : sandbox.logDirectory + "/" + config.logPath
        }
        let record = PodContainerRecord(
            id: id, sandboxID: sandbox.id, name: config.metadata.name, attempt: config.metadata.attempt,
            createdAt: Timestamps.now(), imageID: image.id.description, imageRef: config.image.image, logPath: logPath,
            runtimePath: sandbox.runtimePath, cgroupsPath: cgroupsPath, tty: config.tty, stdin: config.stdin,
            stdinOnce: config.stdinOnce)
        var mounted = false
        do {
            // On disk first: after a crash the container is found (created) and removable.
            try store.persist(record, config: config)
            try Files.makeDirectories(directory + "/bundle", mode: 0o700)
            try images.mountRootfs(image, id: "cri-" + id, target: rootfs)
            mounted = true
            let builder = ContainerSpecBuilder(manager: self, sandbox: sandbox, pausePID: pausePID, image: image, config: config,
                                               id: id, rootfs: rootfs)
            let spec = try builder.build(cgroupsPath: cgroupsPath)
            try Files.write(directory + "/bundle/config.json", bytes: SpecJSON.encode(spec, pretty: true), mode: 0o600)
            try store.save(record, config: config)
        } catch {
            if mounted { try? images.unmountRootfs(id: "cri-" + id, target: rootfs) }
            try? Files.removeTree(directory)
            store.release(name)
            throw CRIError.wrap(error, "failed to create the container")
        }
        return id
    }

    // MARK: Start

    public func startContainer(_ id: String) throws(CRIError) {
        let record = try store.container(id).record
        let directory = store.containerDirectory(record.id)
        guard store.state(ofDirectory: directory).status == .created else {
            throw .failedPrecondition("container \(record.id) is not in the created state")
        }
        let sandbox = try store.sandbox(record.sandboxID).record
        guard isReady(sandbox) else { throw .failedPrecondition("pod sandbox \(sandbox.id) is not ready") }
        var extra: [String] = []
        if !record.logPath.isEmpty {
            do { try Files.makeDirectories(Paths.parent(record.logPath), mode: 0o755) } catch {
                throw .failed("cannot create the log directory of \(record.logPath): \(error)")
            }
            extra += ["--log-path", record.logPath, "--log-format", "cri"]
        } else {
            extra += ["--log-path", "/dev/null"]
        }
        if record.tty { extra.append("--tty") }
        if record.stdin { extra.append("--stdin") }
        if let oom = oomFile(cgroupsPath: record.cgroupsPath) { extra += ["--oom-file", oom] }
        do {
            _ = try startUnderMonitor(directory: directory, id: record.id, runtimePath: record.runtimePath, extra: extra)
        } catch {
            // A container that failed to start is exited (the kubelet reads its status).
            if !Files.exists(directory + "/exit") {
                try? Files.write(directory + "/exit", "128 \(Clock.rfc3339Now())\n")
            }
            try? Files.write(directory + "/start-error", error.description)
            throw error
        }
    }

    // MARK: Stop and remove

    public func stopContainer(_ id: String, timeout: Int64) throws(CRIError) {
        let record: PodContainerRecord
        do {
            record = try store.container(id).record
        } catch .notFound {
            return
        }
        let directory = store.containerDirectory(record.id)
        let signal = stopSignal(record) ?? "TERM"
        try stopProcess(directory: directory, id: record.id, runtimePath: record.runtimePath, signal: signal, timeout: timeout)
    }

    private func stopSignal(_ record: PodContainerRecord) -> String? {
        guard let image = try? images.resolve(record.imageID) else { return nil }
        return try? images.config(of: image).config?.StopSignal
    }

    public func removeContainer(_ id: String) throws(CRIError) {
        let record: PodContainerRecord
        do {
            record = try store.container(id).record
        } catch .notFound {
            return
        }
        try stopContainer(record.id, timeout: 0)
        _ = try? runtime(record.runtimePath, ["delete", "--force", record.id])
        PodCgroups.removeEmpty(record.cgroupsPath, layout: cgroupLayout, daemonParent: options.cgroupParent)
        let directory = store.containerDirectory(record.id)
        do {
            try images.unmountRootfs(id: "cri-" + record.id, target: directory + "/bundle/rootfs")
            try Files.removeTree(directory)
        } catch {
            throw .failed("cannot remove container \(record.id): \(error)")
        }
        store.forget(container: record)
        cpuSamples.forget(record.id)
    }

    // MARK: Status

    func criState(_ state: PodContainerState) -> Runtime_V1_ContainerState {
        switch state.status {
        case .created: return .containerCreated
        case .running: return .containerRunning
        case .exited: return .containerExited
        }
    }

    public func containerStatus(_ id: String) throws(CRIError) -> Runtime_V1_ContainerStatus {
        let (record, config) = try store.container(id)
        let directory = store.containerDirectory(record.id)
        let state = store.state(ofDirectory: directory)
        var status = Runtime_V1_ContainerStatus()
        status.id = record.id
        status.metadata = config.metadata
        status.state = criState(state)
        status.createdAt = record.createdAt
        status.startedAt = state.startedAt
        if state.status == .exited {
            status.finishedAt = state.finishedAt
            status.exitCode = state.exitCode
            if state.oomKilled {
                status.reason = "OOMKilled"
            } else if let message = try? Files.readString(directory + "/start-error") {
                status.reason = "StartError"
                status.message = message
            } else {
                status.reason = state.exitCode == 0 ? "Completed" : "Error"
            }
        }
        status.image = config.image
        status.image.image = record.imageRef
        status.imageRef = record.imageID
        status.labels = config.labels
        status.annotations = config.annotations
        status.mounts = config.mounts
        status.logPath = record.logPath
        status.resources = effectiveResources(directory: directory, requested: config.linux.resources)
        return status
    }

    /// containerd's verbose `info`: the pid, the runtime spec, the config, the runtime.
    public func containerInfo(_ id: String) throws(CRIError) -> [String: String] {
        let (record, config) = try store.container(id)
        let directory = store.containerDirectory(record.id)
        return VerboseInfo.container(record: record, config: config, state: store.state(ofDirectory: directory),
                                     bundle: directory + "/bundle")
    }

    /// The resources in force, as containerd reports them: read back from the container's
    /// runtime spec (which UpdateContainerResources keeps current), so defaults the spec
    /// carries show too; the request's own values where the spec has none.
    func effectiveResources(directory: String, requested: Runtime_V1_LinuxContainerResources) -> Runtime_V1_ContainerResources {
        var linux = requested
        let path = directory + "/bundle/config.json"
        if let bytes = try? Files.readBytes(path), let spec = try? SpecJSON.decodeSpec(bytes, file: path),
           let resources = spec.linux?.resources {
            if let cpu = resources.cpu {
                if let period = cpu.period { linux.cpuPeriod = Int64(clamping: period) }
                if let quota = cpu.quota { linux.cpuQuota = quota }
                if let shares = cpu.shares { linux.cpuShares = Int64(clamping: shares) }
                if let cpus = cpu.cpus { linux.cpusetCpus = cpus }
                if let mems = cpu.mems { linux.cpusetMems = mems }
            }
            if let memory = resources.memory {
                if let limit = memory.limit { linux.memoryLimitInBytes = limit }
                if let swap = memory.swap { linux.memorySwapLimitInBytes = swap }
            }
            if let unified = resources.unified { linux.unified = unified }
            if let oom = spec.process?.oomScoreAdj { linux.oomScoreAdj = Int64(oom) }
        }
        var result = Runtime_V1_ContainerResources()
        result.linux = linux
        return result
    }

    public func listContainers(_ filter: Runtime_V1_ContainerFilter?) -> [Runtime_V1_Container] {
        var result: [Runtime_V1_Container] = []
        for (record, config) in store.containers() {
            let state = criState(store.state(ofDirectory: store.containerDirectory(record.id)))
            if let filter {
                if !filter.id.isEmpty, !record.id.hasPrefix(filter.id) { continue }
                if !filter.podSandboxID.isEmpty, !record.sandboxID.hasPrefix(filter.podSandboxID) { continue }
                if filter.hasState, filter.state.state != state { continue }
                if !filter.labelSelector.allSatisfy({ config.labels[$0.key] == $0.value }) { continue }
            }
            var item = Runtime_V1_Container()
            item.id = record.id
            item.podSandboxID = record.sandboxID
            item.metadata = config.metadata
            item.image = config.image
            item.image.image = record.imageRef
            item.imageRef = record.imageID
            item.state = state
            item.createdAt = record.createdAt
            item.labels = config.labels
            item.annotations = config.annotations
            result.append(item)
        }
        return result.sorted { $0.createdAt > $1.createdAt }
    }

    // MARK: Update and logs

    public func updateContainerResources(_ id: String, resources: Runtime_V1_LinuxContainerResources) throws(CRIError) {
        let (record, found) = try store.container(id)
        var config = found
        let directory = store.containerDirectory(record.id)
        if store.state(ofDirectory: directory).status == .running {
            let update = ContainerSpecBuilder.resources(resources, base: nil)
            let file = directory + "/resources.json"
            do { try Files.write(file, bytes: SpecJSON.encode(update), mode: 0o600) } catch {
                throw .failed("cannot write \(file): \(error)")
            }
            try runtime(record.runtimePath, ["update", "-r", file, record.id])
        }
        // Later starts use the new values too.
        config.linux.resources = resources
        let bundle = directory + "/bundle/config.json"
        if let bytes = try? Files.readBytes(bundle), var spec = try? SpecJSON.decodeSpec(bytes, file: bundle) {
            let current = spec.linux?.resources
            spec.linux?.resources = ContainerSpecBuilder.resources(resources, base: current)
            try? Files.write(bundle, bytes: SpecJSON.encode(spec, pretty: true), mode: 0o600)
        }
        do { try store.save(record, config: config) } catch { throw .failed("cannot save container \(record.id): \(error)") }
    }

    /// Asks the monitor to reopen the log file and waits (up to 5 s) until it exists again.
    public func reopenContainerLog(_ id: String) throws(CRIError) {
        let record = try store.container(id).record
        let directory = store.containerDirectory(record.id)
        guard store.state(ofDirectory: directory).status == .running,
              let monitor = (try? Files.readTrimmed(directory + "/monitor.pid")).flatMap({ Int32($0) }) else {
            throw .failedPrecondition("container \(record.id) is not running")
        }
        guard !record.logPath.isEmpty else { return }
        guard kill(monitor, SIGUSR1) == 0 else { throw .failed("cannot signal the monitor of \(record.id)") }
        let deadline = Clock.monotonicMilliseconds() + 5000
        while !Files.exists(record.logPath) {
            if Clock.monotonicMilliseconds() > deadline { throw .failed("the monitor did not reopen \(record.logPath)") }
            Clock.sleep(milliseconds: 5)
        }
    }
}
