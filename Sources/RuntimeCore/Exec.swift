#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import Cgroups
import OCISpec

extension Runtime {
    /// `exec`: runs another process in a running container: joins its namespaces and
    /// cgroup, applies the process's own identity and privileges, and the container's
    /// seccomp profile. Returns the exit status, or 0 at once with `detach`.
    public func exec(id: String, process: Process, options: ExecOptions) throws(RuntimeError) -> Int32 {
        let record = try store.load(id: id)
        let status = status(of: record)
        guard status == .running || status == .created || (status == .paused && options.ignorePaused) else {
            if status == .paused {
                throw .usage("cannot exec in a paused container \"\(id)\" (use --ignore-paused to override)")
            }
            throw .wrongState(id: id, status: status, operation: "exec in")
        }
        do {
            try SpecValidator.validate(process, file: "process")
        } catch {
            throw .config(error)
        }
        if process.terminal == true && options.detach && options.consoleSocket == nil {
            throw .usage("--tty with --detach needs --console-socket")
        }

        RuntimeLog.shared.debug("\(id): exec \(process.args ?? []) in a \(status.rawValue) container")
        let descriptors = LaunchDescriptors(preserveFDs: options.preserveFDs)
        defer { descriptors.closeAll() }
        var joins: [(Vocabulary.NamespaceKind, Int32)] = []
        var joinPid: Int32?
        let namespaces = record.config.linux?.namespaces ?? []
        for kind in Vocabulary.namespaces where namespaces.contains(where: { $0.type == kind.specName }) {
            let fd = try descriptors.openNamespace(kind.specName, path: "/proc/\(record.pid)/ns/\(kind.procName)")
            if kind.specName == "pid" { joinPid = fd } else { joins.append((kind, fd)) }
        }
        let terminal = try descriptors.terminalDestination(wanted: process.terminal == true,
                                                           consoleSocket: options.consoleSocket)
        let trampoline = try descriptors.trampoline()
        let plan = ChildPlan(
            role: .execProcess, spec: record.config, process: process, id: id, bundle: record.bundle,
            rootfs: record.rootfs, cgroup: try execCgroup(of: record, subCgroups: options.subCgroups), channel: SyncChannel(fd: -1), joins: joins,
            unshareFlags: 0, newUserNamespace: false, inUserNamespace: namespaces.contains { $0.type == "user" },
            newCgroupNamespace: false, ownMountNamespace: namespaces.contains { $0.type == "mount" },
            startSignal: .channel, terminal: terminal, trampolineFD: trampoline,
            noPivot: false, noNewKeyring: true, preserveFDs: options.preserveFDs,
            lastCapability: CapabilitySets.readLastCapability())
        let outcome = try Launcher.launch(
            plan: plan, cloneFlags: 0, joinPidNamespace: joinPid, idMappings: nil, oomScoreAdj: process.oomScoreAdj,
            joinCgroupWhenReady: status == .paused,
            hooksForCreateRuntime: { _ in },
            seccompListener: { (pid: Int32, fd: Int32) throws(RuntimeError) in
                let state = HookState(id: id, status: .running, pid: record.pid, bundle: record.bundle,
                                      annotations: record.config.annotations)
                try SeccompListener.send(fd: fd, to: record.config.linux?.seccomp?.listenerPath ?? "",
                                         metadata: record.config.linux?.seccomp?.listenerMetadata, pid: pid, state: state)
            })
        if let pidFile = options.pidFile {
            do {
                try writePidFile(pidFile, pid: outcome.pid)
            } catch {
                Glibc.kill(outcome.pid, SIGKILL)
                _ = try? Processes.waitForExit(outcome.pid)
                outcome.channel.close()
                throw error
            }
        }
        try wrap { () throws(SysError) in try outcome.channel.send(.proceed) }
        outcome.channel.close()
        RuntimeLog.shared.debug("\(id): exec process \(outcome.pid) started")
        if options.detach { return 0 }
        return try wrap { () throws(SysError) in
            try Supervisor(pid: outcome.pid, terminalMaster: outcome.terminalMaster).wait()
        }
    }
}
