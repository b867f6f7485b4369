#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import Cgroups
import OCISpec

/// The runtime's side of starting a process in a container: prepares descriptors,
/// clones the child with its namespaces, writes id maps, puts it in its cgroup, and
/// answers its requests until it reports ready (or failure).
struct Launcher {
    struct Outcome {
        var pid: Int32
        var terminalMaster: Int32 = -1
        var channel: SyncChannel
    }

    /// Clones and configures the child; returns once it is ready to exec, with the sync
    /// channel still open (run and exec send .proceed on it). On error the child is dead.
    static func launch(plan basePlan: ChildPlan, cloneFlags: UInt64, joinPidNamespace: Int32?,
                       idMappings: (uid: [IDMapping], gid: [IDMapping])?, oomScoreAdj: Int?,
                       joinCgroupWhenReady: Bool = false,
                       hooksForCreateRuntime: (Int32) throws(RuntimeError) -> Void,
                       seccompListener: (Int32, Int32) throws(RuntimeError) -> Void) throws(RuntimeError) -> Outcome {
        let (parentEnd, childEnd) = try wrap { () throws(SysError) in try SyncChannel.makePair() }
        var plan = basePlan
        plan.channel = childEnd

        var ownPidNamespace: Int32 = -1
        if let joinPidNamespace {
            ownPidNamespace = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)
            if caisson_setns(joinPidNamespace, 0x2000_0000) != 0 {
                parentEnd.close(); childEnd.close()
                throw .system(SysError("join pid namespace"))
            }
        }
        let pid = caisson_clone(cloneFlags, nil)
        if pid == 0 {
            parentEnd.close()
            ChildProcess(plan: plan).run()
        }
        let cloneErrno = errno
        if ownPidNamespace >= 0 {
            _ = caisson_setns(ownPidNamespace, 0x2000_0000)
            close(ownPidNamespace)
        }
        childEnd.close()
        if pid < 0 {
            parentEnd.close()
            throw .system(SysError("clone the container process (flags 0x\(String(cloneFlags, radix: 16)))", errno: cloneErrno))
        }

        RuntimeLog.shared.debug("cloned container process \(pid)")
        var outcome = Outcome(pid: pid, channel: parentEnd)
        do {
            if let idMappings { try writeIDMappings(pid: pid, uid: idMappings.uid, gid: idMappings.gid) }
            try wrap { () throws(SysError) in try parentEnd.send(.configured(hostPid: pid)) }
            // Joining a v1 cgroup waits for an RCU grace period (milliseconds); the child
            // builds its mounts meanwhile and waits for .cgroupJoined only where it must.
            // Into a frozen cgroup (exec --ignore-paused) the child would freeze before it
            // could report; then it joins once ready, and stays frozen until resume.
            do {
                if !joinCgroupWhenReady, let cgroup = plan.cgroup, cgroup.exists { try cgroup.add(pid: pid) }
                if let oomScoreAdj { writeOOMScoreAdj(pid: pid, value: oomScoreAdj) }
            } catch {
                // The child may have failed first (and so left its cgroup): its report wins.
                kill(pid, SIGKILL)
                if let (message, _) = try? parentEnd.receive(), case .failure(let text) = message {
                    throw RuntimeError.initFailed(text)
                }
                throw RuntimeError.cgroup(error)
            }
            // If the child already failed, this send fails; its report follows below.
            try? parentEnd.send(.cgroupJoined)
            RuntimeLog.shared.debug("container process \(pid) joined its cgroup")
            loop: while true {
                guard let (message, fd) = try wrap({ () throws(SysError) in try parentEnd.receive() }) else {
                    throw RuntimeError.initFailed("container process exited during setup without a report (see the container's stderr)")
                }
                switch message {
                case .runCreateRuntimeHooks:
                    RuntimeLog.shared.debug("running prestart and createRuntime hooks for process \(pid)")
                    try hooksForCreateRuntime(pid)
                    try wrap { () throws(SysError) in try parentEnd.send(.proceed) }
                case .terminalMaster:
                    RuntimeLog.shared.debug("received the terminal of process \(pid)")
                    outcome.terminalMaster = fd
                case .seccompListener:
                    defer { close(fd) }
                    try seccompListener(pid, fd)
                case .ready:
                    if joinCgroupWhenReady, let cgroup = plan.cgroup, cgroup.exists {
                        try wrap { () throws(CgroupError) in try cgroup.add(pid: pid) }
                    }
                    break loop
                case .failure(let text):
                    throw RuntimeError.initFailed(text)
                case .proceed, .configured, .cgroupJoined:
                    throw RuntimeError.initFailed("unexpected message from the container process")
                }
            }
        } catch {
            kill(pid, SIGKILL)
            _ = try? Processes.waitForExit(pid)
            if outcome.terminalMaster >= 0 { close(outcome.terminalMaster) }
            parentEnd.close()
            throw RuntimeError.wrap(error)
        }
        return outcome
    }

    static func writeIDMappings(pid: Int32, uid: [IDMapping], gid: [IDMapping]) throws(RuntimeError) {
        func text(_ mappings: [IDMapping]) -> String {
            mappings.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        do {
            if getuid() != 0 { try Files.writeKernelFile("/proc/\(pid)/setgroups", "deny") }
            try Files.writeKernelFile("/proc/\(pid)/gid_map", text(gid))
            try Files.writeKernelFile("/proc/\(pid)/uid_map", text(uid))
        } catch {
            throw .system(error)
        }
    }

    /// oom_score_adj: a process without CAP_SYS_RESOURCE cannot go below its own value.
    /// Clamp to the lowest value allowed and say so, as containerd does.
    static func writeOOMScoreAdj(pid: Int32, value: Int) {
        let path = "/proc/\(pid)/oom_score_adj"
        do {
            try Files.writeKernelFile(path, String(value))
        } catch {
            let own = Int((try? Files.readTrimmed("/proc/self/oom_score_adj")) ?? "") ?? 0
            if value < own, (try? Files.writeKernelFile(path, String(own))) != nil {
                RuntimeLog.shared.warn("oomScoreAdj \(value) is below the runtime's own \(own) and needs CAP_SYS_RESOURCE; clamped to \(own)")
            } else {
                RuntimeLog.shared.warn("could not set oomScoreAdj to \(value): \(error)")
            }
        }
    }

    /// Moves a descriptor to a number at or above `minimum` (so it cannot collide with
    /// the descriptors passed by --preserve-fds), closing the original.
    static func moveAbove(_ fd: Int32, minimum: Int32) -> Int32 {
        guard fd >= 0, fd < minimum else { return fd }
        let moved = caisson_fcntl_int(fd, F_DUPFD_CLOEXEC, minimum)
        if moved >= 0 { close(fd) }
        return moved >= 0 ? moved : fd
    }
}

/// Turns a typed throw of a lower layer into RuntimeError.
@inline(__always)
func wrap<T, E: Error>(_ body: () throws(E) -> T) throws(RuntimeError) -> T {
    do {
        return try body()
    } catch {
        throw RuntimeError.wrap(error)
    }
}
