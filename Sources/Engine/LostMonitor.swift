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
        for network in eventNetworks(record) {
            events.record(type: "network", action: "disconnect", id: network.id,
                          attributes: ["container": record.id, "name": network.name, "type": network.type])
        }
        return finished
    }
}
