#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonShim
import CaissonSys
import ContainerHealth
import ImageSpec
import Images
import Synchronization

/// Where the engine keeps things and which programs it runs.
public struct EngineOptions: Sendable {
    /// Images, containers, volumes, the state database (default /var/lib/caisson).
    public var root: String
    /// Runtime state and network namespaces (default /run/caisson).
    public var runRoot: String
    public var images: ImageStoreOptions
    /// `caisson-monitor` and `caisson` (for --rm clean-up), found beside the CLI.
    public var monitorPath: String
    public var caissonPath: String
    /// Extra arguments every `caisson` the monitor starts needs (--root, --runroot, ...).
    public var caissonGlobalArguments: [String]
    public var cniPluginDirectories: [String]
    /// Where the named runtimes are looked for.
    public var searchPath: [String]

    public init(root: String, runRoot: String, images: ImageStoreOptions, monitorPath: String, caissonPath: String,
                caissonGlobalArguments: [String], cniPluginDirectories: [String] = ["/usr/lib/cni", "/opt/cni/bin"],
                searchPath: [String]) {
        self.root = root
        self.runRoot = runRoot
        self.images = images
        self.monitorPath = monitorPath
        self.caissonPath = caissonPath
        self.caissonGlobalArguments = caissonGlobalArguments
        self.cniPluginDirectories = cniPluginDirectories
        self.searchPath = searchPath
    }
}

/// The container engine: containers (create, start, stop, kill, remove, pause, rename),
/// networks and volumes, over the image service, the state store, CNI, the per-container
/// monitor and the pluggable OCI runtime. Used in-process by the CLI (no daemon needed),
/// and later by the daemon.
public final class ContainerEngine: Sendable {
    public let options: EngineOptions
    public let images: ImageService
    public let store: EngineStore
    public let cni: CNI
    /// Network attachments begun by `create` for a container about to start (`run`),
    /// taken over by `beginStart`.
    let earlyNetworks = Mutex<[String: NetworkJob]>([:])

    public init(_ options: EngineOptions) throws(EngineError) {
        self.options = options
        do {
            images = try ImageService(options.images)
        } catch {
            throw .image(error)
        }
        do {
            try Files.makeDirectories(options.root + "/containers", mode: 0o700)
            try Files.makeDirectories(options.root + "/volumes", mode: 0o700)
            try Files.makeDirectories(options.runRoot + "/netns", mode: 0o755)
        } catch {
            throw .system(error)
        }
        store = try EngineStore(path: options.root + "/engine.db")
        // IPAM leases live under the run root (tmpfs): after a reboot no container holds
        // an address, and no stale lease survives to leak it.
        cni = CNI(pluginDirectories: options.cniPluginDirectories, stateDirectory: options.runRoot + "/cni", helper: options.monitorPath,
                  markerDirectory: options.runRoot + "/networks")
    }

    public func directory(of id: String) -> String { options.root + "/containers/" + id }
    public func bundle(of id: String) -> String { directory(of: id) + "/bundle" }
    public func logPath(of id: String) -> String { directory(of: id) + "/container.log" }
    public func runtimeRoot(for runtimePath: String) -> String { options.runRoot + "/runtime-" + Paths.base(runtimePath) }
    func netnsPath(of id: String) -> String { options.runRoot + "/netns/" + id }

    /// The runtime command line for a container.
    public func runtimeCommand(_ record: ContainerRecord, _ arguments: [String]) -> [String] {
        [record.runtimePath, "--root", runtimeRoot(for: record.runtimePath)] + arguments
    }

    /// A runtime name (caisson-runtime, runc, crun) or path, as an absolute path.
    public func resolveRuntime(_ name: String) throws(EngineError) -> String {
        if name.contains("/") {
            guard access(name, X_OK) == 0 else { throw .invalid("runtime \(name) is not an executable") }
            return Paths.absolute(name)
        }
        guard ["caisson-runtime", "runc", "crun"].contains(name) || name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw .invalid("invalid runtime name \"\(name)\"")
        }
        for directory in options.searchPath where access(directory + "/" + name, X_OK) == 0 {
            return directory + "/" + name
        }
        throw .invalid("unknown runtime \"\(name)\": not found beside caisson or in PATH")
    }

    // MARK: Look-up

    /// By full id, unique id prefix or name.
    public func find(_ text: String) throws(EngineError) -> ContainerRecord {
        let records = try store.containers()
        let key = text.hasPrefix("/") ? String(text.dropFirst()) : text
        if let exact = records.first(where: { $0.id == key || $0.name == key }) { return exact }
        let prefixed = records.filter { $0.id.hasPrefix(key) }
        if prefixed.count == 1, !key.isEmpty { return prefixed[0] }
        if prefixed.count > 1 { throw .invalid("multiple containers match \"\(text)\"; use a longer id") }
        throw .noSuchContainer(text)
    }

    public func state(of record: ContainerRecord) -> ContainerState {
        let directory = directory(of: record.id)
        var state = ContainerState(status: .created, restartCount: Int((try? Files.readTrimmed(directory + "/restarts")) ?? "") ?? 0)
        if let started = try? Files.readTrimmed(directory + "/started") {
            let parts = started.split(separator: " ")
            state.pid = parts.first.flatMap { Int32($0) }
            state.startedAt = parts.count > 1 ? String(parts[1]) : nil
        }
        var exited = false
        if let exit = try? Files.readTrimmed(directory + "/exit") {
            let parts = exit.split(separator: " ")
            state.exitCode = parts.first.flatMap { Int32($0) }
            state.finishedAt = parts.count > 1 ? String(parts[1]) : nil
            state.oomKilled = parts.count > 2 && parts[2] == "oom"
            exited = true
        }
        let monitor = recordedMonitor(directory)
        let monitorAlive = monitor.map(ContainerEngine.isLiveMonitor) ?? false
        if monitorAlive {
            state.monitorPID = monitor
            if exited {
                state.status = .restarting
            } else if state.startedAt != nil {
                state.status = state.pid.map(Processes.isFrozen) == true ? .paused : .running
            }
        } else if exited {
            state.status = .exited
        } else if state.startedAt != nil {
            // The monitor is gone without recording an exit (killed, or the machine restarted).
            state.status = .exited
            state.exitCode = 255
            state.finishedAt = recordLostExit(record)
        }
        if !state.isRunning { state.pid = nil }
        if state.status == .created, let failure = try? Files.readTrimmed(directory + "/" + ContainerEngine.startErrorFile) {
            // A start that failed: docker's exit code for it and its message.
            let parts = failure.split(separator: " ", maxSplits: 1).map(String.init)
            state.exitCode = parts.first.flatMap { Int32($0) }
            state.error = parts.count > 1 ? parts[1] : ""
        }
        if let bytes = try? Files.readBytes(directory + "/health.json"), var health = HealthState(bytes: bytes) {
            // Probes run only while the container runs unpaused; otherwise docker reports
            // unhealthy, whatever a monitor that ended abruptly last wrote.
            if state.status != .running { health.stop() }
            state.health = health
        }
        return state
    }

    /// The pid a container's monitor recorded (removed when it ends normally).
    func recordedMonitor(_ directory: String) -> Int32? {
        (try? Files.readTrimmed(directory + "/monitor.pid")).flatMap { Int32($0) }
    }

    static func isLiveMonitor(_ pid: Int32) -> Bool { Glibc.kill(pid, 0) == 0 && isMonitor(pid) }

    public static func isMonitor(_ pid: Int32) -> Bool {
        guard let command = try? Files.readBytes("/proc/\(pid)/cmdline") else { return false }
        return String(decoding: command.prefix { $0 != 0 }, as: UTF8.self).hasSuffix("caisson-monitor")
    }

    public func list() throws(EngineError) -> [(ContainerRecord, ContainerState)] {
        try store.containers().map { ($0, state(of: $0)) }
    }

    /// For each image a container uses, one of its containers (a running one first), as
    /// `rmi` weighs them.
    public func imageUsers() throws(EngineError) -> [Digest: ImageUser] {
        var users: [Digest: ImageUser] = [:]
        for (record, state) in try list() where users[record.imageID]?.running != true {
            users[record.imageID] = ImageUser(containerID: record.id, running: state.isRunning)
        }
        return users
    }

    // MARK: Create

    /// Creates a container from a local image: its root filesystem, bundle and record.
    /// Records a container, mounts its root filesystem and writes its bundle. With
    /// `startingSoon` (`run`), its network namespace is made and attached at once, beside
    /// the root filesystem and bundle, for the `beginStart` that follows.
    public func create(_ config: ContainerConfig, name requested: String?, startingSoon: Bool = false) throws(EngineError) -> ContainerRecord {
        let image: ImageRecord
        do { image = try images.resolve(config.image) } catch { throw .image(error) }
        let runtimePath = try resolveRuntime(config.runtime)
        let id = ContainerEngine.randomID()
        let name: String
        if let requested {
            guard ContainerEngine.isValidName(requested) else {
                throw EngineError.invalid("Invalid container name (\(requested)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
            }
            name = requested
        } else {
            name = NameGenerator.name(avoiding: Set(try store.containers().map(\.name)))
        }
        var config = config
        try check(config)
        // dockerd's default: a memory limit without a swap limit allows as much swap again
        // (memory plus swap twice the memory), where the host accounts swap.
        if let memory = config.memory, memory > 0, (config.memorySwap ?? 0) == 0, ResourceChecks.swapAccounting {
            config.memorySwap = memory * 2
        }
        if config.network != "host", config.network != "none" { _ = try network(named: config.network) }
        try config.healthcheck?.validate()
        if let imageCheck = try? images.config(of: image).config?.Healthcheck {
            config.healthcheck = (config.healthcheck ?? HealthConfig()).over(imageCheck)
        }
        if config.hostname == nil {
            config.hostname = config.network == "host" || config.utsMode == "host" ? ContainerEngine.hostName() : String(id.prefix(12))
        }
        let imageSettings = try? images.config(of: image).config
        config.mounts = try MountPlanning.plan(config.mounts, imageVolumes: imageSettings?.Volumes.map { Array($0.keys) } ?? [])
        if config.network == "host" || config.network == "none", !config.ports.isEmpty || config.publishAll {
            throw .invalidSetting(config.ports.isEmpty ? .publishAll : .publish,
                                  "ports cannot be published with network mode \(config.network)")
        }
        let published = try PortPublishing.published(config, image: imageSettings?.ExposedPorts.map { Array($0.keys) } ?? [])
        var record = ContainerRecord(id: id, name: name, created: Clock.rfc3339Now(), config: config, imageID: image.id,
                                     runtimePath: runtimePath, publishedPorts: published)
        record.netnsPath = config.network == "host" ? nil : netnsPath(of: id)
        let directory = directory(of: id)
        // The record comes first: whatever a crash leaves after it belongs to a container
        // that `ps -a` shows and `rm` removes. A generated name another create took in the
        // meantime is drawn again; a requested one is the caller's conflict.
        var attempts = 0
        while true {
            do {
                try store.insert(record)
                break
            } catch .nameInUse(let taken, let other) {
                attempts += 1
                guard requested == nil, attempts < 16 else { throw .nameInUse(name: taken, id: other) }
                record.name = NameGenerator.name(avoiding: Set(try store.containers().map(\.name)))
            }
        }
        do {
            try Files.makeDirectories(bundle(of: id), mode: 0o700)
        } catch {
            try? store.deleteContainer(id)
            throw .system(error)
        }
        var early: NetworkJob?
        if startingSoon, let network = try? prepareNamespace(record) {
            let pending = record
            early = NetworkJob { [self] () throws(EngineError) -> ContainerRecord in try attach(pending, to: network) }
        }
        do {
            try images.mountRootfs(image, id: id, target: bundle(of: id) + "/rootfs")
            try SpecBuilder(engine: self).writeConfig(record, image: image)
            if let early { earlyNetworks.withLock { $0[id] = early } }
        } catch {
            if let early {
                if let attached = try? early.wait() { tearDownNetwork(attached) } else { tearDownNetwork(record) }
            }
            try? images.unmountRootfs(id: id, target: bundle(of: id) + "/rootfs")
            try? Files.removeTree(directory)
            try? store.deleteContainer(id)
            if let error = error as? EngineError { throw error }
            if let error = error as? ImageError { throw .image(error) }
            throw .invalid("\(error)")
        }
        event("create", record)
        return record
    }

    /// 64 random hex digits: container, network and anonymous volume ids.
    public static func randomID() -> String { Hex.encode(Files.randomBytes(32)) }

    static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }
        guard let first = bytes.first, alnum(first), bytes.count <= 128 else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, 255)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A free TCP port on the host (for -P, and -p CONTAINER without a host port).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, length)
                _ = getsockname(fd, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a host port can be bound now.
    static func portIsFree(_ port: PortMapping) -> Bool {
        let type = port.proto == "udp" ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port.hostPort).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
