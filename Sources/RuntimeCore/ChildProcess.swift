#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import Cgroups
import OCISpec

/// What a newly cloned child needs to become a container process. Built by the
/// runtime before clone, so the child only reads memory it already has.
struct ChildPlan {
    enum Role {
        /// The container's first process: builds namespaces, rootfs and all.
        case initProcess
        /// `exec`: joins an existing container's namespaces.
        case execProcess
    }

    enum StartSignal {
        /// `create`: after .proceed, wait until `start` opens ROOT/ID/exec.fifo (dir fd given).
        case fifo(directoryFD: Int32)
        /// `run` and `exec`: .proceed on the sync channel starts the program.
        case channel
    }

    enum TerminalDestination {
        case none
        case consoleSocket(fd: Int32)
        case runtime
    }

    var role: Role
    var spec: Spec
    var process: Process
    var id: String
    var bundle: String
    var rootfs: String
    var cgroup: Cgroup?
    var channel: SyncChannel
    /// Namespaces to enter with setns, in Vocabulary order (user first).
    var joins: [(kind: Vocabulary.NamespaceKind, fd: Int32)]
    /// CLONE_NEW* flags still to unshare after the joins (not user or pid: clone made those).
    var unshareFlags: UInt64
    var newUserNamespace: Bool
    var inUserNamespace: Bool
    var newCgroupNamespace: Bool
    /// Whether the container has a mount namespace of its own (new or joined).
    var ownMountNamespace: Bool
    var startSignal: StartSignal
    var terminal: TerminalDestination
    var trampolineFD: Int32
    var noPivot: Bool
    var noNewKeyring: Bool
    var preserveFDs: Int
    var lastCapability: Int
    /// Bind mount sources the runtime opened for the child (mount index -> O_PATH fd).
    var bindSources: [Int: Int32] = [:]
}

/// The child side of process creation. Runs right after clone in a single-threaded
/// process; reports any failure to the runtime over the sync channel and exits.
struct ChildProcess {
    let plan: ChildPlan

    func run() -> Never {
        do {
            try setUp()
        } catch {
            let message = "\(RuntimeError.wrap(error))"
            if ChildProcess.reportedReady {
                // The runtime has moved on; the container's stderr is the only witness left.
                FileDescriptors.writeError("caisson-runtime: \(message)\n")
            } else {
                try? plan.channel.send(.failure(message))
            }
        }
        _exit(1)
    }

    /// How this process's debug lines begin.
    private var stage: String { plan.role == .initProcess ? "init" : "exec init" }

    /// Set once `ready` is sent: later failures go to stderr, not to the runtime.
    nonisolated(unsafe) static var reportedReady = false

    private func setUp() throws {
        // Nothing in the container may open our /proc entries (and our host binary)
        // while we work in its namespaces.
        _ = caisson_prctl(4 /* PR_SET_DUMPABLE */, 0, 0, 0, 0)
        closeInheritedDescriptors()
        guard let (message, _) = try plan.channel.receive(), case .configured(let hostPid) = message else {
            _exit(1)
        }
        RuntimeLog.shared.debug("\(stage): child process \(hostPid) configured by the runtime")
        if plan.newUserNamespace { try becomeRoot() }
        for (kind, fd) in plan.joins {
            if caisson_setns(fd, Int32(truncatingIfNeeded: kind.cloneFlag)) != 0 {
                throw SysError("join \(kind.specName) namespace")
            }
            close(fd)
            if kind.specName == "user" { try becomeRoot() }
        }
        // The cgroup namespace must be made after the process is in its cgroup.
        let firstFlags = plan.unshareFlags & ~ChildProcess.cgroupNamespaceFlag
        if firstFlags != 0 && caisson_unshare(Int32(truncatingIfNeeded: firstFlags)) != 0 {
            throw SysError("unshare namespaces (flags 0x\(String(firstFlags, radix: 16)))")
        }
        RuntimeLog.shared.debug("\(stage): joined \(plan.joins.count) namespace(s), unshared 0x\(String(firstFlags, radix: 16))")
        switch plan.role {
        case .initProcess: try setUpInit(hostPid: hostPid)
        case .execProcess:
            try awaitCgroupMembership()
            try setUpExec()
        }
    }

    static let cgroupNamespaceFlag: UInt64 = 0x0200_0000

    /// Waits until the runtime has moved us into the container's cgroup, then makes the
    /// cgroup namespace if one is asked for. Idempotent.
    private func awaitCgroupMembership() throws {
        if ChildProcess.joinedCgroup { return }
        guard let (message, _) = try plan.channel.receive(), message == .cgroupJoined else { _exit(1) }
        ChildProcess.joinedCgroup = true
        if plan.unshareFlags & ChildProcess.cgroupNamespaceFlag != 0,
           caisson_unshare(Int32(ChildProcess.cgroupNamespaceFlag)) != 0 {
            throw SysError("unshare the cgroup namespace")
        }
    }

    /// Set once per child process (the child is single-threaded).
    nonisolated(unsafe) static var joinedCgroup = false

    /// Closes every descriptor the runtime's caller left open except stdio, the
    /// --preserve-fds range and the ones this plan uses, so a container waiting for
    /// `start` holds nothing of its creator's (pipes an engine watches, files, sockets).
    private func closeInheritedDescriptors() {
        var keep = Set<Int32>([plan.channel.fd, plan.trampolineFD, RuntimeLog.shared.fd])
        for (_, fd) in plan.joins { keep.insert(fd) }
        if case .fifo(let fd) = plan.startSignal { keep.insert(fd) }
        if case .consoleSocket(let fd) = plan.terminal { keep.insert(fd) }
        keep.formUnion(plan.bindSources.values)
        var next = UInt32(3 + plan.preserveFDs)
        for fd in keep.filter({ $0 >= Int32(next) }).sorted() {
            if UInt32(fd) > next { _ = caisson_close_range(next, UInt32(fd) - 1, 0) }
            next = UInt32(fd) + 1
        }
        _ = caisson_close_range(next, UInt32.max, 0)
    }

    private func becomeRoot() throws(SysError) {
        if caisson_setresgid(0, 0, 0) != 0 { throw SysError("setresgid 0 in the user namespace") }
        if caisson_setresuid(0, 0, 0) != 0 { throw SysError("setresuid 0 in the user namespace") }
    }

    // MARK: init

    private func setUpInit(hostPid: Int32) throws {
        let spec = plan.spec
        if let offsets = spec.linux?.timeOffsets, !offsets.isEmpty {
            var text = ""
            for (clock, offset) in offsets.sorted(by: { $0.key < $1.key }) {
                text += "\(clock) \(offset.secs ?? 0) \(offset.nanosecs ?? 0)\n"
            }
            try Files.writeKernelFile("/proc/self/timens_offsets", text)
        }
        if let hostname = spec.hostname, !hostname.isEmpty, sethostname(hostname, hostname.utf8.count) != 0 {
            throw SysError("sethostname \(hostname)")
        }
        if let domain = spec.domainname, !domain.isEmpty, setdomainname(domain, domain.utf8.count) != 0 {
            throw SysError("setdomainname \(domain)")
        }

        guard plan.ownMountNamespace else {
            // No mount namespace of its own: the host's mounts must not be touched, so no
            // mounts, devices or pivot_root; the process is confined to the rootfs by chroot.
            try awaitCgroupMembership()
            try runCreateHooks(hostPid: hostPid)
            if chroot(plan.rootfs) != 0 { throw SysError("chroot", path: plan.rootfs) }
            if chdir("/") != 0 { throw SysError("chdir /") }
            try finishAndExec(terminalSlave: nil, hostPid: hostPid)
            return
        }
        let filesystem = RootFilesystem(spec: spec, rootfs: plan.rootfs, bundle: plan.bundle, cgroup: plan.cgroup,
                                        inUserNamespace: plan.inUserNamespace,
                                        newCgroupNamespace: plan.newCgroupNamespace, bindSources: plan.bindSources)
        // A cgroup2 mount inside a new cgroup namespace must see the namespace's root.
        if plan.newCgroupNamespace && plan.cgroup?.layout.mode == .unified { try awaitCgroupMembership() }
        try filesystem.prepare()
        RuntimeLog.shared.debug("\(stage): rootfs \(plan.rootfs) prepared")
        let rootFD = open(plan.rootfs, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if rootFD < 0 { throw SysError("open rootfs", path: plan.rootfs) }
        let root = RootedPath(rootFD: rootFD, rootPath: plan.rootfs)
        try filesystem.mountAll(root: root)
        try filesystem.populateDev(root: root)
        RuntimeLog.shared.debug("\(stage): \(spec.mounts?.count ?? 0) mount(s) made, /dev populated")
        let cwd = try root.openOrCreate(plan.process.cwd, as: .directory)
        close(cwd)

        var terminal: ContainerTerminal?
        if plan.process.terminal == true {
            let created = try ContainerTerminal.open(root: root, rows: plan.process.consoleSize?.height,
                                                     columns: plan.process.consoleSize?.width)
            try created.bindConsole(root: root)
            try handOff(terminal: created)
            terminal = created
        }
        close(rootFD)

        try awaitCgroupMembership()
        try runCreateHooks(hostPid: hostPid)

        try filesystem.pivot(noPivot: plan.noPivot)
        RuntimeLog.shared.debug("\(stage): \(plan.noPivot ? "chrooted (--no-pivot)" : "pivot_root done")")
        try filesystem.writeSysctls()
        try filesystem.maskPaths()
        try filesystem.makeReadonlyPaths()
        try filesystem.finish()
        RuntimeLog.shared.debug("\(stage): sysctls, masked and read-only paths applied")

        if !plan.noNewKeyring {
            // A session keyring of its own; some kernels or namespaces refuse, which is harmless.
            _ = caisson_join_session_keyring("_ses.\(plan.id)")
        }
        if let personality = spec.linux?.personality {
            // PER_LINUX 0x0000, PER_LINUX32 0x0008
            _ = caisson_personality(personality.domain == "LINUX32" ? 0x0008 : 0x0000)
        }
        try finishAndExec(terminalSlave: terminal?.slave, hostPid: hostPid)
    }

    /// prestart and createRuntime hooks (run by the runtime, in its namespaces), then
    /// createContainer hooks (here, in the container's namespaces, before pivot_root).
    private func runCreateHooks(hostPid: Int32) throws {
        let spec = plan.spec
        let state = HookState(id: plan.id, status: .creating, pid: hostPid, bundle: plan.bundle,
                              annotations: spec.annotations)
        if !(spec.hooks?.prestart ?? []).isEmpty || !(spec.hooks?.createRuntime ?? []).isEmpty {
            try plan.channel.send(.runCreateRuntimeHooks)
            guard let (reply, _) = try plan.channel.receive(), reply == .proceed else { _exit(1) }
        }
        // In the container's mount namespace, before pivot_root, from its root directory.
        try HookRunner.run(spec.hooks?.createContainer, kind: "createContainer", state: state,
                           workingDirectory: plan.rootfs)
    }

    // MARK: exec

    private func setUpExec() throws {
        if !plan.ownMountNamespace {
            if chroot(plan.rootfs) != 0 { throw SysError("chroot", path: plan.rootfs) }
            if chdir("/") != 0 { throw SysError("chdir /") }
        }
        var terminalSlave: Int32?
        if plan.process.terminal == true {
            let root = RootedPath(rootFD: open("/", CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC), rootPath: "/")
            defer { close(root.rootFD) }
            let created = try ContainerTerminal.open(root: root, rows: plan.process.consoleSize?.height,
                                                     columns: plan.process.consoleSize?.width)
            try handOff(terminal: created)
            terminalSlave = created.slave
        }
        try finishAndExec(terminalSlave: terminalSlave, hostPid: 0)
    }

    private func handOff(terminal: ContainerTerminal) throws(SysError) {
        switch plan.terminal {
        case .consoleSocket(let fd):
            try ConsoleSocket.send(master: terminal.master, over: fd)
            close(fd)
        case .runtime:
            try plan.channel.send(.terminalMaster, attaching: terminal.master)
        case .none:
            break
        }
        close(terminal.master)
        // The terminal becomes our stdio now, as runc's init does, not at exec: a create
        // waiting for `start` must not hold its caller's stdout and stderr open (a shell's
        // `$(caisson-runtime create ...)` would wait for the container).
        try ContainerTerminal.attach(slave: terminal.slave)
    }

    // MARK: common tail

    /// Privileges, identity, then wait for the start signal and exec the program.
    private func finishAndExec(terminalSlave: Int32?, hostPid: Int32) throws {
        let process = plan.process
        let credentials = ProcessCredentials(process: process, inUserNamespace: plan.inUserNamespace,
                                             setgroupsAllowed: setgroupsAllowed())
        try credentials.applyRlimits()
        let environment = credentials.environment()
        try credentials.enterWorkingDirectory()
        let executable = try credentials.resolveExecutable(environment: environment)
        RuntimeLog.shared.debug("\(stage): rlimits and cwd set, executable \(executable)")

        let seccomp = plan.spec.linux?.seccomp.map { SeccompFilter(profile: $0) }
        let noNewPrivileges = process.noNewPrivileges == true
        var listener: Int32 = -1
        if let seccomp, !noNewPrivileges { listener = try seccomp.load() }
        let capabilities = process.capabilities.map { CapabilitySets($0, lastCapability: plan.lastCapability) }
        try capabilities?.dropBounding()
        try credentials.giveStdio(terminalSlave.map { [$0] } ?? [0, 1, 2])
        try credentials.switchUser()
        try capabilities?.applySets()
        try credentials.setNoNewPrivileges()
        if let seccomp, noNewPrivileges { listener = try seccomp.load() }
        if listener >= 0 {
            try plan.channel.send(.seccompListener, attaching: listener)
            close(listener)
        }
        credentials.applyUmask()
        RuntimeLog.shared.debug("\(stage): seccomp, user, capabilities and no_new_privs applied; ready")

        try plan.channel.send(.ready)
        ChildProcess.reportedReady = true
        // The runtime answers once the container's state is saved. Until then, its death
        // (the channel's end of file) is ours: a container no state names could never be
        // deleted.
        guard let (proceed, _) = try plan.channel.receive(), proceed == .proceed else { _exit(1) }
        switch plan.startSignal {
        case .fifo(let directoryFD):
            RuntimeLog.shared.debug("\(stage): waiting for start on exec.fifo")
            // The caller's stderr must not be held while waiting (see RuntimeLog).
            RuntimeLog.shared.releaseStderr()
            let fifo = openat(directoryFD, "exec.fifo", O_WRONLY | O_CLOEXEC)
            if fifo < 0 { throw SysError("open exec.fifo") }
            var byte: UInt8 = 0x30
            _ = write(fifo, &byte, 1)
            close(fifo)
            close(directoryFD)
        case .channel:
            break
        }
        plan.channel.close()

        if plan.role == .initProcess {
            let state = HookState(id: plan.id, status: .created, pid: hostPid, bundle: plan.bundle,
                                  annotations: plan.spec.annotations)
            try HookRunner.run(plan.spec.hooks?.startContainer, kind: "startContainer", state: state)
        }
        if let terminalSlave, terminalSlave > 2 { close(terminalSlave) }
        RuntimeLog.shared.debug("\(stage): exec \(executable)")
        // The program starts with no blocked signals and default dispositions, whatever
        // the runtime's caller had (blocked and ignored signals survive exec).
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        for number in 1...Signals.maximum where number != SIGKILL && number != SIGSTOP {
            signal(number, SIG_DFL)
        }
        // Only stdio and the preserved descriptors survive the exec.
        let firstClosed = UInt32(3 + plan.preserveFDs)
        _ = caisson_close_range(firstClosed, UInt32.max, 4 /* CLOSE_RANGE_CLOEXEC */)
        if plan.preserveFDs > 0 {
            for fd in 3..<(3 + plan.preserveFDs) { _ = caisson_fcntl_int(Int32(fd), F_SETFD, 0) }
        }
        let args = process.args ?? []
        var error = ExecTrampoline.exec(trampoline: plan.trampolineFD, path: executable, argv: args, env: environment)
        if error.errno == EPERM || error.errno == ENOSYS || error.errno == EACCES {
            // A seccomp profile may forbid execveat; execve through /proc still hides the host binary.
            let viaProc = CStringArray([executable] + args)
            let envp = CStringArray(environment)
            execve("/proc/self/fd/\(plan.trampolineFD)", viaProc.pointers, envp.pointers)
            error = SysError("exec", path: executable)
        }
        FileDescriptors.writeError("caisson-runtime: exec \(executable): \(Errno.describe(error.errno))\n")
        _exit(127)
    }

    private func setgroupsAllowed() -> Bool {
        guard plan.inUserNamespace else { return true }
        let text = (try? Files.readTrimmed("/proc/self/setgroups")) ?? "allow"
        return text == "allow"
    }
}

/// Writing to our own stderr from a process that no longer has the runtime's log.
enum FileDescriptors {
    static func writeError(_ text: String) {
        try? Files.writeAll(fd: 2, bytes: Array(text.utf8))
    }
}
