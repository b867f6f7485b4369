#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import Cgroups
import OCISpec

/// The container lifecycle of the OCI runtime spec: create, start, state, kill,
/// delete, plus runc's run, exec, pause, resume, update, ps and list.
///
/// Each method is one runtime command; containers persist between commands only in
/// the state store and in the kernel (processes, namespaces, cgroups).
public struct Runtime {
    public let store: StateStore

    public init(root: String) {
        store = StateStore(root: root)
    }

    // MARK: create / run

    struct Prepared {
        var spec: Spec
        /// config.json as read, kept in the state directory.
        var configBytes: [UInt8]
        var bundle: String
        var rootfs: String
    }

    /// Loads and checks the bundle before anything is created on the host.
    func prepare(id: String, bundle rawBundle: String) throws(RuntimeError) -> Prepared {
        try StateStore.validate(id: id)
        let bundle = Paths.absolute(rawBundle)
        guard Files.isDirectory(bundle) else {
            throw .usage("bundle \(bundle): no such directory")
        }
        let configPath = bundle + "/config.json"
        let spec: Spec
        let configBytes: [UInt8]
        do {
            configBytes = try Files.readBytes(configPath)
        } catch {
            throw .config(ConfigError(file: configPath, error.errno == ENOENT ? "no such file" : error.description))
        }
        do {
            spec = try SpecJSON.decodeSpec(configBytes, file: configPath)
            try SpecValidator.validate(spec, file: configPath)
        } catch {
            throw .config(error)
        }
        let rootPath = spec.root!.path
        let rootfs = Paths.clean(rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath)
        guard Files.isDirectory(rootfs) else {
            throw .config(ConfigError(file: configPath, "root.path: \(rootfs) is not a directory"))
        }
        return Prepared(spec: spec, configBytes: configBytes, bundle: bundle, rootfs: rootfs)
    }

    /// What `create` leaves behind for the following commands.
    public struct Created {
        public var pid: Int32
        var channel: SyncChannel
        var terminalMaster: Int32
        var record: ContainerRecord
    }

    /// Creates the container: everything up to, not including, running the program.
    /// With `startByFIFO`, the process waits on exec.fifo for `start`; otherwise the
    /// caller starts it through the returned channel (run).
    func create(id: String, options: CreateOptions, startByFIFO: Bool, terminalToRuntime: Bool) throws(RuntimeError) -> Created {
        let prepared = try prepare(id: id, bundle: options.bundle)
        RuntimeLog.shared.debug("\(id): config loaded and validated")
        let spec = prepared.spec
        let process = spec.process!
        if process.terminal == true && options.consoleSocket == nil && !terminalToRuntime {
            throw .usage("process.terminal is true, so --console-socket is needed when the runtime detaches")
        }
        if process.terminal != true && options.consoleSocket != nil {
            throw .usage("--console-socket is only used when process.terminal is true")
        }
        try validateCgroupSettings(spec, id: id)
        let reservation = try store.reserve(id: id, configBytes: prepared.configBytes)
        defer { close(reservation) }
        RuntimeLog.shared.debug("\(id): state directory \(store.directory(of: id)) reserved")

        var cgroup: Cgroup?
        let descriptors = LaunchDescriptors(preserveFDs: options.preserveFDs)
        defer { descriptors.closeAll() }
        do {
            let layout = try wrap { () throws(SysError) in try CgroupLayout.detect() }
            let created = try wrap { () throws(CgroupError) in
                try Cgroup(layout: layout, cgroupsPath: spec.linux?.cgroupsPath, containerID: id)
            }
            Runtime.warnIfPopulated(created)
            // A process put into a frozen cgroup would stop there for good (runc refuses too).
            if created.exists && created.isFrozen {
                throw RuntimeError.usage("cannot use a frozen cgroup (\(spec.linux?.cgroupsPath ?? "/" + id)): thaw it first")
            }
            cgroup = created
            try wrap { () throws(CgroupError) in
                try created.create()
                try created.apply(spec.linux?.resources ?? Resources(), warn: { RuntimeLog.shared.warn($0) })
            }

            RuntimeLog.shared.debug("\(id): cgroup created and limited")
            var startSignal = ChildPlan.StartSignal.channel
            if startByFIFO {
                let fifo = store.fifoPath(of: id)
                if mkfifo(fifo, 0o622) != 0 { throw RuntimeError.system(SysError("mkfifo", path: fifo)) }
                // Not subject to the umask: the container's user, whoever it is, writes to it.
                if chmod(fifo, 0o622) != 0 { throw RuntimeError.system(SysError("chmod", path: fifo)) }
                let directory = open(store.directory(of: id), CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
                if directory < 0 { throw RuntimeError.system(SysError("open", path: store.directory(of: id))) }
                startSignal = .fifo(directoryFD: descriptors.keep(directory))
            }
            let terminal = try descriptors.terminalDestination(wanted: process.terminal == true,
                                                               consoleSocket: options.consoleSocket)

            var joins: [(Vocabulary.NamespaceKind, Int32)] = []
            var joinPid: Int32?
            var cloneFlags: UInt64 = 0
            var unshareFlags: UInt64 = 0
            let namespaces = spec.linux?.namespaces ?? []
            for kind in Vocabulary.namespaces {
                guard let entry = namespaces.first(where: { $0.type == kind.specName }) else { continue }
                if let path = entry.path, !path.isEmpty {
                    let fd = try descriptors.openNamespace(kind.specName, path: path)
                    if kind.specName == "pid" { joinPid = fd } else { joins.append((kind, fd)) }
                } else if kind.specName == "user" || kind.specName == "pid" {
                    cloneFlags |= kind.cloneFlag
                } else {
                    unshareFlags |= kind.cloneFlag
                }
            }
            let newUser = cloneFlags & Vocabulary.namespace(named: "user")!.cloneFlag != 0
            let inUser = namespaces.contains { $0.type == "user" }
            let trampoline = try descriptors.trampoline()
            let bindSources = inUser ? descriptors.bindSources(of: spec.mounts ?? [], bundle: prepared.bundle) : [:]
            RuntimeLog.shared.debug("\(id): namespaces: clone 0x\(String(cloneFlags, radix: 16)), unshare 0x\(String(unshareFlags, radix: 16)), join \(joins.map(\.0.specName) + (joinPid == nil ? [] : ["pid"]))")

            let plan = ChildPlan(
                role: .initProcess, spec: spec, process: process, id: id, bundle: prepared.bundle,
                rootfs: prepared.rootfs, cgroup: cgroup, channel: SyncChannel(fd: -1), joins: joins,
                unshareFlags: unshareFlags, newUserNamespace: newUser, inUserNamespace: inUser,
                newCgroupNamespace: namespaces.contains { $0.type == "cgroup" && ($0.path ?? "").isEmpty },
                ownMountNamespace: namespaces.contains { $0.type == "mount" },
                startSignal: startSignal, terminal: terminal, trampolineFD: trampoline,
                noPivot: options.noPivot, noNewKeyring: options.noNewKeyring, preserveFDs: options.preserveFDs,
                lastCapability: CapabilitySets.readLastCapability(), bindSources: bindSources)
            for cap in process.capabilities.map({ CapabilitySets.unknownToKernel($0, lastCapability: plan.lastCapability) }) ?? [] {
                RuntimeLog.shared.warn("capability \(cap) is not known to this kernel and is left out")
            }
            let bundle = prepared.bundle
            let outcome = try Launcher.launch(
                plan: plan, cloneFlags: cloneFlags, joinPidNamespace: joinPid,
                idMappings: newUser ? (spec.linux?.uidMappings ?? [], spec.linux?.gidMappings ?? []) : nil,
                oomScoreAdj: process.oomScoreAdj,
                hooksForCreateRuntime: { (pid: Int32) throws(RuntimeError) in
                    let state = HookState(id: id, status: .creating, pid: pid, bundle: bundle, annotations: spec.annotations)
                    try HookRunner.run(spec.hooks?.prestart, kind: "prestart", state: state)
                    try HookRunner.run(spec.hooks?.createRuntime, kind: "createRuntime", state: state)
                },
                seccompListener: { (pid: Int32, fd: Int32) throws(RuntimeError) in
                    let state = HookState(id: id, status: .creating, pid: pid, bundle: bundle, annotations: spec.annotations)
                    try SeccompListener.send(fd: fd, to: spec.linux?.seccomp?.listenerPath ?? "",
                                             metadata: spec.linux?.seccomp?.listenerMetadata, pid: pid, state: state)
                })
            RuntimeLog.shared.debug("\(id): container process \(outcome.pid) is ready")
            let record = ContainerRecord(
                id: id, pid: outcome.pid, pidStartTime: Processes.startTime(of: outcome.pid) ?? 0,
                bundle: prepared.bundle, rootfs: prepared.rootfs, created: Clock.rfc3339Now(),
                owner: ownerName(), config: spec)
            do {
                try store.saveState(record)
                if let pidFile = options.pidFile { try writePidFile(pidFile, pid: outcome.pid) }
                RuntimeLog.shared.debug("\(id): state saved")
            } catch {
                Glibc.kill(outcome.pid, SIGKILL)
                _ = try? Processes.waitForExit(outcome.pid)
                throw error
            }
            return Created(pid: outcome.pid, channel: outcome.channel, terminalMaster: outcome.terminalMaster, record: record)
        } catch {
            if let cgroup { try? cgroup.destroy() }
            store.remove(id: id)
            throw RuntimeError.wrap(error)
        }
    }

    /// `create`: the container waits in "created" until `start`.
    public func create(id: String, options: CreateOptions) throws(RuntimeError) {
        let created = try create(id: id, options: options, startByFIFO: true, terminalToRuntime: false)
        // The state is saved: the container may now wait on exec.fifo without us.
        do {
            try wrap { () throws(SysError) in try created.channel.send(.proceed) }
        } catch {
            created.channel.close()
            try? forceDelete(created.record)
            throw error
        }
        created.channel.close()
        RuntimeLog.shared.debug("\(id): created; the container process waits for start")
    }

    /// `run`: create and start. Detached, returns 0 at once; in the foreground, waits,
    /// relays the terminal, removes the container and returns the process's status.
    public func run(id: String, options: CreateOptions, detach: Bool, keep: Bool) throws(RuntimeError) -> Int32 {
        let created = try create(id: id, options: options, startByFIFO: false, terminalToRuntime: !detach)
        let record = created.record
        do {
            try wrap { () throws(SysError) in try created.channel.send(.proceed) }
        } catch {
            created.channel.close()
            try? forceDelete(record)
            throw error
        }
        created.channel.close()
        RuntimeLog.shared.debug("\(id): started")
        runPoststart(record)
        if detach { return 0 }
        let status: Int32
        do {
            status = try wrap { () throws(SysError) in
                try Supervisor(pid: created.pid, terminalMaster: created.terminalMaster).wait()
            }
        } catch {
            try? forceDelete(record)
            throw error
        }
        RuntimeLog.shared.debug("\(id): exited with status \(status)")
        if !keep { try? forceDelete(record) }
        RuntimeLog.shared.debug("\(id): deleted")
        return status
    }

    // MARK: start

    public func start(id: String) throws(RuntimeError) {
        let record = try store.load(id: id)
        try store.withLock(id: id) { () throws(RuntimeError) in
            let status = self.status(of: record)
            guard status == .created else { throw .wrongState(id: id, status: status, operation: "start") }
            let fifoPath = store.fifoPath(of: id)
            let fifo = open(fifoPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            if fifo < 0 { throw .system(SysError("open", path: fifoPath)) }
            defer { close(fifo) }
            while true {
                var descriptor = pollfd(fd: fifo, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, 50)
                if ready > 0 && descriptor.revents & Int16(POLLIN) != 0 {
                    var byte: UInt8 = 0
                    if read(fifo, &byte, 1) == 1 { break }
                }
                if !Processes.isAlive(record.pid, startTime: record.pidStartTime) {
                    unlink(fifoPath)
                    throw .wrongState(id: id, status: .stopped, operation: "start")
                }
            }
            unlink(fifoPath)
        }
        runPoststart(record)
    }

    private func runPoststart(_ record: ContainerRecord) {
        let state = HookState(id: record.id, status: .running, pid: record.pid, bundle: record.bundle,
                              annotations: record.config.annotations)
        HookRunner.runWarning(record.config.hooks?.poststart, kind: "poststart", state: state)
    }

    // MARK: state

    public func cgroup(of record: ContainerRecord) -> Cgroup? {
        guard let layout = try? CgroupLayout.detect() else { return nil }
        return try? Cgroup(layout: layout, cgroupsPath: record.config.linux?.cgroupsPath, containerID: record.id)
    }

    /// The status, derived from the kernel each time: a live init with exec.fifo still
    /// present is created, a frozen cgroup is paused, a dead init is stopped.
    public func status(of record: ContainerRecord) -> ContainerStatus {
        guard Processes.isAlive(record.pid, startTime: record.pidStartTime) else { return .stopped }
        if Files.exists(store.fifoPath(of: record.id)) { return .created }
        if let cgroup = cgroup(of: record), cgroup.isFrozen { return .paused }
        return .running
    }

    public func state(id: String) throws(RuntimeError) -> ContainerStateDocument {
        let record = try store.load(id: id)
        return document(for: record)
    }

    public func document(for record: ContainerRecord) -> ContainerStateDocument {
        let status = status(of: record)
        return ContainerStateDocument(
            id: record.id, status: status, pid: status == .stopped ? 0 : record.pid, bundle: record.bundle,
            rootfs: record.rootfs, created: record.created, owner: record.owner,
            annotations: record.config.annotations)
    }

    public func list() -> [ContainerStateDocument] {
        store.ids().compactMap { try? state(id: $0) }
    }

    // MARK: kill

    public func kill(id: String, signal: Int32, all: Bool) throws(RuntimeError) {
        let record = try store.load(id: id)
        let status = status(of: record)
        guard status != .stopped else { throw .wrongState(id: id, status: status, operation: "kill") }
        if all, let cgroup = cgroup(of: record) {
            for pid in (try? cgroup.pids()) ?? [] { Glibc.kill(pid, signal) }
        } else if Glibc.kill(record.pid, signal) != 0 {
            throw .system(SysError("kill \(record.pid) with signal \(signal)"))
        }
        if status == .paused && signal == SIGKILL, let cgroup = cgroup(of: record) { try? cgroup.thaw() }
    }

    // MARK: delete

    public func delete(id: String, force: Bool) throws(RuntimeError) {
        let record: ContainerRecord
        do {
            record = try store.load(id: id)
        } catch .containerNotFound where (try? StateStore.validate(id: id)) != nil && store.isAbandoned(id: id) {
            // A create killed before it saved the state: nothing can run (its process
            // waits for the state before anything else), but the cgroup may be there.
            deleteAbandoned(id: id)
            return
        }
        try store.withLock(id: id) { () throws(RuntimeError) in
            let status = self.status(of: record)
            if status != .stopped && status != .created && !force {
                throw .usage("cannot delete container \"\(id)\" that is not stopped: \(status.rawValue) (use --force)")
            }
            try forceDelete(record)
        }
    }

    /// What a killed create leaves: the directory with the config copy, perhaps a cgroup.
    func deleteAbandoned(id: String) {
        let configPath = store.directory(of: id) + "/config.json"
        if let bytes = try? Files.readBytes(configPath), let spec = try? SpecJSON.decodeSpec(bytes, file: configPath),
           let layout = try? CgroupLayout.detect(),
           let cgroup = try? Cgroup(layout: layout, cgroupsPath: spec.linux?.cgroupsPath, containerID: id), cgroup.exists {
            if cgroup.isFrozen { try? cgroup.thaw() }
            for pid in (try? cgroup.pids()) ?? [] { Glibc.kill(pid, SIGKILL) }
            for _ in 0..<2000 where !((try? cgroup.pids()) ?? []).isEmpty { Clock.sleep(milliseconds: 1) }
            try? cgroup.destroy()
        }
        store.remove(id: id)
    }

    /// Kills whatever is left, removes the cgroup, runs poststop hooks, forgets the container.
    func forceDelete(_ record: ContainerRecord) throws(RuntimeError) {
        let cgroup = cgroup(of: record)
        if Processes.isAlive(record.pid, startTime: record.pidStartTime) {
            Glibc.kill(record.pid, SIGKILL)
        }
        if let cgroup {
            if cgroup.isFrozen { try? cgroup.thaw() }
            for pid in (try? cgroup.pids()) ?? [] { Glibc.kill(pid, SIGKILL) }
        }
        // Wait for the init to be gone (reaped by us if it is our child, else by its parent).
        for _ in 0..<2000 {
            var status: Int32 = 0
            _ = waitpid(record.pid, &status, WNOHANG)
            if !Processes.isAlive(record.pid, startTime: record.pidStartTime) { break }
            Clock.sleep(milliseconds: 1)
        }
        var failure: RuntimeError?
        if let cgroup {
            do {
                try cgroup.destroy()
            } catch {
                failure = .cgroup(error)
            }
        }
        let state = HookState(id: record.id, status: .stopped, pid: nil, bundle: record.bundle,
                              annotations: record.config.annotations)
        HookRunner.runWarning(record.config.hooks?.poststop, kind: "poststop", state: state)
        store.remove(id: record.id)
        if let failure { throw failure }
    }

    // MARK: pause / resume

    public func pause(id: String) throws(RuntimeError) {
        let record = try store.load(id: id)
        let status = status(of: record)
        guard status == .running || status == .created else { throw .wrongState(id: id, status: status, operation: "pause") }
        guard let cgroup = cgroup(of: record) else { throw .unsupported("cannot pause: no cgroup found for \"\(id)\"") }
        try wrap { () throws(CgroupError) in try cgroup.freeze() }
    }

    public func resume(id: String) throws(RuntimeError) {
        let record = try store.load(id: id)
        let status = status(of: record)
        guard status == .paused else { throw .wrongState(id: id, status: status, operation: "resume") }
        guard let cgroup = cgroup(of: record) else { throw .unsupported("cannot resume: no cgroup found for \"\(id)\"") }
        try wrap { () throws(CgroupError) in try cgroup.thaw() }
    }

    // MARK: ps / update / stats

    public func pids(id: String) throws(RuntimeError) -> [Int32] {
        let record = try store.load(id: id)
        guard let cgroup = cgroup(of: record) else { return [] }
        return try wrap { () throws(CgroupError) in try cgroup.pids() }
    }

    public func update(id: String, resources: Resources) throws(RuntimeError) {
        var record = try store.load(id: id)
        let status = status(of: record)
        guard status != .stopped else { throw .wrongState(id: id, status: status, operation: "update") }
        guard let cgroup = cgroup(of: record) else { throw .unsupported("cannot update: no cgroup found for \"\(id)\"") }
        try wrap { () throws(CgroupError) in
            try cgroup.apply(resources, includeDevices: false, warn: { RuntimeLog.shared.warn($0) })
        }
        var merged = record.config.linux?.resources ?? Resources()
        if let memory = resources.memory { merged.memory = memory }
        if let cpu = resources.cpu { merged.cpu = cpu }
        if let pids = resources.pids { merged.pids = pids }
        if let blockIO = resources.blockIO { merged.blockIO = blockIO }
        if record.config.linux == nil { record.config.linux = Linux() }
        record.config.linux?.resources = merged
        try store.save(record)
    }

    public func stats(id: String) throws(RuntimeError) -> CgroupStats {
        let record = try store.load(id: id)
        let status = status(of: record)
        guard status != .stopped else { throw .wrongState(id: id, status: status, operation: "get stats of") }
        guard let cgroup = cgroup(of: record) else { throw .unsupported("no cgroup found for \"\(id)\"") }
        return cgroup.stats()
    }

    // MARK: helpers

    func writePidFile(_ path: String, pid: Int32) throws(RuntimeError) {
        do {
            try Files.writeAtomically(Paths.absolute(path), bytes: Array(String(pid).utf8), mode: 0o644)
        } catch {
            throw .system(error)
        }
    }

    /// The invoking user's name from /etc/passwd (a static binary has no NSS), else the uid.
    func ownerName() -> String {
        let uid = getuid()
        for line in Text.lines((try? Files.readString("/etc/passwd")) ?? "") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count > 2, UInt32(fields[2]) == uid { return String(fields[0]) }
        }
        return String(uid)
    }
}
