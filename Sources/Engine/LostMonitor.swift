#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// A container whose monitor died (SIGKILLed, or OOM-killed) without recording an exit:
/// nobody relays its output, reaps it or records how it ends, and its runtime state
/// still holds the ID, so a new start would fail with "already exists". As containerd
/// does for a dead shim, the engine ends it the first time it looks (`runtime delete
/// --force`: its processes killed, its cgroup removed) and records the exit as 255, now,
/// with docker's `die` and network `disconnect` events.
extension ContainerEngine {
    /// The exit's time (RFC 3339), recorded once: of two processes that find the same lost
    /// container, the one whose exit file lands first records the events.
    func recordLostExit(_ record: ContainerRecord) -> String {
        let directory = directory(of: record.id)
        if Files.exists(runtimeRoot(for: record.runtimePath) + "/" + record.id) {
            _ = try? runtime(record, ["delete", "--force", record.id])
        }
        let finished = Clock.rfc3339Now()
        let temporary = directory + "/exit.lost.\(getpid()).\(Clock.monotonicMilliseconds())"
        guard (try? Files.write(temporary, "255 \(finished)\n")) != nil else { return finished }
        defer { unlink(temporary) }
        guard link(temporary, directory + "/exit") == 0 else {
            // Recorded by another process meanwhile (or the directory is going): its time.
            let text = (try? Files.readTrimmed(directory + "/exit")) ?? ""
            let parts = text.split(separator: " ")
            return parts.count > 1 ? String(parts[1]) : finished
        }
        event("die", record, ["exitCode": "255"])
        for network in eventNetworks(record) { networkEvent("disconnect", network, container: record.id) }
        return finished
    }

    /// A monitor killed while its `runtime create` ran leaves that create running alone: it
    /// may still make the cgroup, start the container's init (which then waits for a start
    /// that never comes) and save the state after the container is removed. Before the
    /// removal looks for runtime state, such a create is killed (any `create` whose last
    /// argument is the container's ID, which is unique), so what it made is abandoned state
    /// that `runtime delete --force` clears. Only for containers whose monitor is gone
    /// without an exit and left its pid file: a normal removal never scans /proc.
    func killOrphanedCreate(_ record: ContainerRecord) {
        let directory = directory(of: record.id)
        // A monitor that ended normally removed its pid file; one still running owns the create.
        guard !Files.exists(directory + "/exit"), let monitor = recordedMonitor(directory),
              !ContainerEngine.isLiveMonitor(monitor) else { return }
        guard let entries = try? Files.listDirectory("/proc") else { return }
        var killed: [Int32] = []
        for entry in entries {
            guard let pid = Int32(entry), pid != getpid(),
                  let command = try? Files.readBytes("/proc/\(entry)/cmdline") else { continue }
            let arguments = command.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
            if arguments.last == record.id, arguments.contains("create"), Glibc.kill(pid, SIGKILL) == 0 { killed.append(pid) }
        }
        // Gone (or a zombie its parent reaps) before the caller looks at what it left.
        for pid in killed {
            for _ in 0..<1000 where Processes.isAlive(pid, startTime: nil) { Clock.sleep(milliseconds: 1) }
        }
    }
}
