#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Cgroups
import OCISpec
import RuntimeCore

/// One line of `events` output, in runc's shape: {"type":"stats","id":...,"data":{...}}.
struct Event<Payload: Encodable>: Encodable {
    var type: String
    var id: String
    var data: Payload?
}

/// `events`: with --stats, one stats event; otherwise a stats event every interval and
/// an "oom" event whenever the OOM kill count of the container's cgroup grows.
func eventsCommand(_ arguments: ArgumentScanner, _ runtime: Runtime) throws -> Int32 {
    guard let id = arguments.positionals.first else {
        throw ArgumentScanner.UsageError(description: "events: a container id is required")
    }
    let interval = try Duration.parseMilliseconds(arguments.value("interval") ?? "5s")
    if arguments.isSet("stats") {
        emit(Event(type: "stats", id: id, data: try runtime.stats(id: id)))
        return 0
    }
    var lastOOMKills: UInt64?
    while true {
        let record = try runtime.store.load(id: id)
        guard runtime.status(of: record) != .stopped, let cgroup = runtime.cgroup(of: record) else { return 0 }
        let kills = oomKills(cgroup)
        if let last = lastOOMKills, kills > last {
            emit(Event<CgroupStats>(type: "oom", id: id, data: nil))
        }
        lastOOMKills = kills
        emit(Event(type: "stats", id: id, data: cgroup.stats()))
        Clock.sleep(milliseconds: interval)
    }
}

private func emit<T: Encodable>(_ event: T) {
    var bytes = SpecJSON.encode(event)
    bytes.append(UInt8(ascii: "\n"))
    try? Files.writeAll(fd: 1, bytes: bytes)
}

private func oomKills(_ cgroup: Cgroup) -> UInt64 {
    guard let directory = cgroup.directory(for: "memory") else { return 0 }
    for file in ["memory.oom_control", "memory.events"] {
        for line in Text.lines((try? Files.readString(directory + "/" + file)) ?? "") where line.hasPrefix("oom_kill ") {
            return UInt64(line.dropFirst("oom_kill ".count)) ?? 0
        }
    }
    return 0
}

/// Go-style durations as runc takes them: "5s", "500ms", "1m".
enum Duration {
    static func parseMilliseconds(_ text: String) throws -> Int {
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)), value > 0 { return max(1, Int(value * Double(factor))) }
        }
        throw ArgumentScanner.UsageError(description: "--interval: \"\(text)\" is not a duration (e.g. 5s, 500ms)")
    }
}
