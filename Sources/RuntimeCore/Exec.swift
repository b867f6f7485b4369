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
        guard status == .running || status == .created else {
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

        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        let minimumFD = Int32(3 + options.preserveFDs)
        func keep(_ fd: Int32) -> Int32 {
            let moved = Launcher.moveAbove(fd, minimum: minimumFD)
            opened.append(moved)
            return moved
        }

        var joins: [(Vocabulary.NamespaceKind, Int32)] = []
        var joinPid: Int32?
        let namespaces = record.config.linux?.namespaces ?? []
        for kind in Vocabulary.namespaces where namespaces.contains(where: { $0.type == kind.specName }) {
            let path = "/proc/\(record.pid)/ns/\(kind.procName)"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw .system(SysError("open \(kind.specName) namespace", path: path)) }
            let kept = keep(fd)
            if kind.specName == "pid" { joinPid = kept } else { joins.append((kind, kept)) }
        }
        var terminal = ChildPlan.TerminalDestination.none
        if process.terminal == true {
            if let socketPath = options.consoleSocket {
                let fd = try wrap { () throws(SysError) in try ConsoleSocket.connect(path: socketPath) }
                terminal = .consoleSocket(fd: keep(fd))
            } else {
                terminal = .runtime
            }
        }
        let trampoline = keep(try wrap { () throws(SysError) in try ExecTrampoline.makeSealedFile() })
        let plan = ChildPlan(
            role: .execProcess, spec: record.config, process: process, id: id, bundle: record.bundle,
            rootfs: record.rootfs, cgroup: cgroup(of: record), channel: SyncChannel(fd: -1), joins: joins,
            unshareFlags: 0, newUserNamespace: false, inUserNamespace: namespaces.contains { $0.type == "user" },
            newCgroupNamespace: false, ownMountNamespace: namespaces.contains { $0.type == "mount" },
            startSignal: .channel, terminal: terminal, trampolineFD: trampoline,
            noPivot: false, noNewKeyring: true, preserveFDs: options.preserveFDs,
            lastCapability: CapabilitySets.readLastCapability())
        let outcome = try Launcher.launch(
            plan: plan, cloneFlags: 0, joinPidNamespace: joinPid, idMappings: nil, oomScoreAdj: process.oomScoreAdj,
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
        if options.detach { return 0 }
        return try wrap { () throws(SysError) in
            try Supervisor(pid: outcome.pid, terminalMaster: outcome.terminalMaster).wait()
        }
    }
}
