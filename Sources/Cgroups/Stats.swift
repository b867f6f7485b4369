import CaissonSys

/// Resource usage of a container's cgroup, in the JSON shape of runc's `events --stats`
/// ("data" of a "stats" event), so tools that parse runc's output parse ours.
public struct CgroupStats: Codable, Sendable {
    public struct CPUUsage: Codable, Sendable {
        public var total: UInt64 = 0
        public var percpu: [UInt64]?
        public var kernel: UInt64 = 0
        public var user: UInt64 = 0
    }
    public struct Throttling: Codable, Sendable {
        public var periods: UInt64?
        public var throttled_periods: UInt64?
        public var throttled_time: UInt64?
    }
    public struct CPU: Codable, Sendable {
        public var usage = CPUUsage()
        public var throttling = Throttling()
    }
    public struct MemoryEntry: Codable, Sendable {
        public var limit: UInt64?
        public var usage: UInt64?
        public var max: UInt64?
        public var failcnt: UInt64?
    }
    public struct Memory: Codable, Sendable {
        public var cache: UInt64?
        public var usage = MemoryEntry()
        public var swap = MemoryEntry()
        public var raw: [String: UInt64]?
    }
    public struct Pids: Codable, Sendable {
        public var current: UInt64?
        public var limit: UInt64?
    }
    public struct Hugetlb: Codable, Sendable {
        public var usage: UInt64?
        public var max: UInt64?
        public var failcnt: UInt64
    }

    public var cpu = CPU()
    public var memory = Memory()
    public var pids = Pids()
    public var hugetlb: [String: Hugetlb] = [:]
}

extension Cgroup {
    /// Reads current usage from whichever hierarchy carries each controller.
    public func stats() -> CgroupStats {
        var stats = CgroupStats()
        func number(_ path: String) -> UInt64? {
            guard let text = try? Files.readTrimmed(path) else { return nil }
            if text == "max" { return UInt64.max }
            return UInt64(text)
        }
        func keyed(_ path: String) -> [String: UInt64] {
            var result: [String: UInt64] = [:]
            for line in Text.lines((try? Files.readString(path)) ?? "") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let value = UInt64(parts[1]) { result[String(parts[0])] = value }
            }
            return result
        }
        if let hierarchy = layout.hierarchy(for: "cpuacct"), hierarchy.version == .v1, let dir = directory(for: "cpuacct") {
            stats.cpu.usage.total = number(dir + "/cpuacct.usage") ?? 0
            let percpu = (try? Files.readTrimmed(dir + "/cpuacct.usage_percpu")) ?? ""
            stats.cpu.usage.percpu = percpu.split(separator: " ").compactMap { UInt64($0) }
            let ticks = keyed(dir + "/cpuacct.stat")
            // USER_HZ is 100 on Linux: ticks to nanoseconds.
            stats.cpu.usage.user = (ticks["user"] ?? 0) * 10_000_000
            stats.cpu.usage.kernel = (ticks["system"] ?? 0) * 10_000_000
        } else if let dir = directory(for: "cpu") ?? paths.first(where: { $0.hierarchy.version == .v2 })?.directory {
            let cpu = keyed(dir + "/cpu.stat")
            stats.cpu.usage.total = (cpu["usage_usec"] ?? 0) * 1000
            stats.cpu.usage.user = (cpu["user_usec"] ?? 0) * 1000
            stats.cpu.usage.kernel = (cpu["system_usec"] ?? 0) * 1000
        }
        if let dir = directory(for: "cpu") {
            let cpu = keyed(dir + "/cpu.stat")
            stats.cpu.throttling = CgroupStats.Throttling(
                periods: cpu["nr_periods"], throttled_periods: cpu["nr_throttled"],
                throttled_time: cpu["throttled_time"] ?? cpu["throttled_usec"].map { $0 * 1000 })
        }
        if let hierarchy = layout.hierarchy(for: "memory"), let dir = directory(for: "memory") {
            if hierarchy.version == .v1 {
                stats.memory.usage = CgroupStats.MemoryEntry(
                    limit: number(dir + "/memory.limit_in_bytes"), usage: number(dir + "/memory.usage_in_bytes"),
                    max: number(dir + "/memory.max_usage_in_bytes"), failcnt: number(dir + "/memory.failcnt"))
                stats.memory.swap = CgroupStats.MemoryEntry(
                    limit: number(dir + "/memory.memsw.limit_in_bytes"), usage: number(dir + "/memory.memsw.usage_in_bytes"),
                    max: number(dir + "/memory.memsw.max_usage_in_bytes"), failcnt: number(dir + "/memory.memsw.failcnt"))
                let raw = keyed(dir + "/memory.stat")
                stats.memory.raw = raw
                stats.memory.cache = raw["cache"]
            } else {
                let events = keyed(dir + "/memory.events")
                stats.memory.usage = CgroupStats.MemoryEntry(
                    limit: number(dir + "/memory.max"), usage: number(dir + "/memory.current"),
                    max: number(dir + "/memory.peak"), failcnt: events["max"])
                stats.memory.swap = CgroupStats.MemoryEntry(
                    limit: number(dir + "/memory.swap.max"), usage: number(dir + "/memory.swap.current"),
                    max: nil, failcnt: nil)
                let raw = keyed(dir + "/memory.stat")
                stats.memory.raw = raw
                stats.memory.cache = raw["file"]
            }
        }
        if let dir = directory(for: "pids") {
            stats.pids = CgroupStats.Pids(current: number(dir + "/pids.current"), limit: number(dir + "/pids.max"))
        }
        if let hierarchy = layout.hierarchy(for: "hugetlb"), let dir = directory(for: "hugetlb") {
            for name in (try? Files.listDirectory(dir)) ?? [] where name.hasPrefix("hugetlb.") {
                let parts = name.split(separator: ".")
                guard parts.count >= 3 else { continue }
                let size = String(parts[1])
                if stats.hugetlb[size] != nil { continue }
                if hierarchy.version == .v1 {
                    stats.hugetlb[size] = CgroupStats.Hugetlb(
                        usage: number("\(dir)/hugetlb.\(size).usage_in_bytes"),
                        max: number("\(dir)/hugetlb.\(size).max_usage_in_bytes"),
                        failcnt: number("\(dir)/hugetlb.\(size).failcnt") ?? 0)
                } else {
                    stats.hugetlb[size] = CgroupStats.Hugetlb(
                        usage: number("\(dir)/hugetlb.\(size).current"), max: nil,
                        failcnt: keyed("\(dir)/hugetlb.\(size).events")["max"] ?? 0)
                }
            }
        }
        return stats
    }
}
