#if canImport(Glibc)
import Glibc
#endif
import Cgroups
import CaissonSys

/// One reading of a running container's resource usage, as both `caisson stats` and the
/// Docker API's `/containers/{id}/stats` need it: the cgroup's counters (cpuacct, memory,
/// pids, blkio; v1 controllers first on hybrid hosts), the host's CPU time (for docker's
/// CPU percentage), the interfaces of the container's network namespace
/// (`/proc/<pid>/net/dev`), and when it was taken.
public struct ContainerStatsSample: Sendable {
    /// One line of the blkio byte or operation counters.
    public struct BlkioEntry: Sendable {
        public var major: UInt64
        public var minor: UInt64
        public var op: String
        public var value: UInt64
    }

    /// The counters of one network interface.
    public struct InterfaceCounters: Sendable {
        public var rxBytes: UInt64 = 0, rxPackets: UInt64 = 0, rxErrors: UInt64 = 0, rxDropped: UInt64 = 0
        public var txBytes: UInt64 = 0, txPackets: UInt64 = 0, txErrors: UInt64 = 0, txDropped: UInt64 = 0
    }

    /// RFC 3339 with nanoseconds, the wall-clock time of the reading.
    public var read: String
    /// Monotonic milliseconds, to measure intervals between readings.
    public var monotonicMilliseconds: Int64
    public var cgroup: CgroupStats
    /// The memory limit: the cgroup's, or the host's memory when that is lower (unlimited).
    public var memoryLimit: UInt64
    public var ioServiceBytes: [BlkioEntry]
    public var ioServiced: [BlkioEntry]
    /// The host's CPU time in nanoseconds (all CPUs, from /proc/stat), as docker reports it.
    public var systemCPUNanoseconds: UInt64
    public var onlineCPUs: Int
    /// Interfaces other than `lo`, by name.
    public var networks: [(name: String, counters: InterfaceCounters)]

    /// Received and sent bytes over every interface.
    public var networkTotals: (received: UInt64, sent: UInt64) {
        networks.reduce((UInt64(0), UInt64(0))) { ($0.0 + $1.counters.rxBytes, $0.1 + $1.counters.txBytes) }
    }
}

extension ContainerEngine {
    /// A reading of a running container's usage; nil when it does not run.
    public func statsSample(of record: ContainerRecord) -> ContainerStatsSample? {
        let current = state(of: record)
        guard current.isRunning, let pid = current.pid else { return nil }
        guard let layout = try? CgroupLayout.detect(),
              let cgroup = try? Cgroup(layout: layout, cgroupsPath: "/caisson/" + record.id, containerID: record.id) else { return nil }
        let stats = cgroup.stats()
        let hostMemory = UInt64(sysconf(Int32(_SC_PHYS_PAGES))) * UInt64(sysconf(Int32(_SC_PAGESIZE)))
        var limit = stats.memory.usage.limit ?? 0
        if limit == 0 || limit > hostMemory { limit = hostMemory }
        var serviceBytes: [ContainerStatsSample.BlkioEntry] = []
        var serviced: [ContainerStatsSample.BlkioEntry] = []
        if let directory = cgroup.directory(for: "blkio") {
            serviceBytes = ContainerEngine.blkio(directory + "/blkio.throttle.io_service_bytes_recursive")
            serviced = ContainerEngine.blkio(directory + "/blkio.throttle.io_serviced_recursive")
        } else if let directory = cgroup.directory(for: "io") {
            (serviceBytes, serviced) = ContainerEngine.ioStat(directory + "/io.stat")
        }
        return ContainerStatsSample(
            read: Clock.rfc3339Now(), monotonicMilliseconds: Clock.monotonicMilliseconds(), cgroup: stats,
            memoryLimit: limit, ioServiceBytes: serviceBytes, ioServiced: serviced,
            systemCPUNanoseconds: ContainerEngine.systemCPUNanoseconds(),
            onlineCPUs: max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
            networks: ContainerEngine.interfaces(pid: pid))
    }

    /// blkio v1 lines: `MAJOR:MINOR Op VALUE` (the `Total` line left out, as docker does).
    static func blkio(_ path: String) -> [ContainerStatsSample.BlkioEntry] {
        ((try? Files.readString(path)) ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, let value = UInt64(fields[2]) else { return nil }
            let device = fields[0].split(separator: ":")
            guard device.count == 2, let major = UInt64(device[0]), let minor = UInt64(device[1]) else { return nil }
            return ContainerStatsSample.BlkioEntry(major: major, minor: minor, op: String(fields[1]), value: value)
        }
    }

    /// cgroup v2 `io.stat` (`MAJOR:MINOR rbytes=.. wbytes=.. rios=.. wios=..`) in blkio's shape.
    static func ioStat(_ path: String) -> ([ContainerStatsSample.BlkioEntry], [ContainerStatsSample.BlkioEntry]) {
        var bytes: [ContainerStatsSample.BlkioEntry] = []
        var operations: [ContainerStatsSample.BlkioEntry] = []
        for line in ((try? Files.readString(path)) ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let first = fields.first else { continue }
            let device = first.split(separator: ":")
            guard device.count == 2, let major = UInt64(device[0]), let minor = UInt64(device[1]) else { continue }
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=")
                guard pair.count == 2, let value = UInt64(pair[1]) else { continue }
                let entry = { (op: String) in ContainerStatsSample.BlkioEntry(major: major, minor: minor, op: op, value: value) }
                switch pair[0] {
                case "rbytes": bytes.append(entry("read"))
                case "wbytes": bytes.append(entry("write"))
                case "rios": operations.append(entry("read"))
                case "wios": operations.append(entry("write"))
                default: break
                }
            }
        }
        return (bytes, operations)
    }

    /// The first line of /proc/stat (user nice system idle iowait irq softirq steal, in
    /// USER_HZ ticks) as nanoseconds, as docker computes `system_cpu_usage`.
    static func systemCPUNanoseconds() -> UInt64 {
        guard let text = try? Files.readString("/proc/stat"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
        let ticks = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }
        return ticks.reduce(0, +) * 10_000_000
    }

    /// The interfaces of the network namespace of `pid`, `lo` left out.
    static func interfaces(pid: Int32) -> [(name: String, counters: ContainerStatsSample.InterfaceCounters)] {
        var result: [(name: String, counters: ContainerStatsSample.InterfaceCounters)] = []
        for line in ((try? Files.readString("/proc/\(pid)/net/dev")) ?? "").split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: " ")
            guard name != "lo" else { continue }
            let fields = line[line.index(after: colon)...].split(separator: " ").compactMap { UInt64($0) }
            guard fields.count >= 12 else { continue }
            var counters = ContainerStatsSample.InterfaceCounters()
            counters.rxBytes = fields[0]; counters.rxPackets = fields[1]; counters.rxErrors = fields[2]; counters.rxDropped = fields[3]
            counters.txBytes = fields[8]; counters.txPackets = fields[9]; counters.txErrors = fields[10]; counters.txDropped = fields[11]
            result.append((name, counters))
        }
        return result
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        String(drop(while: { $0 == character }).reversed().drop(while: { $0 == character }).reversed())
    }
}
