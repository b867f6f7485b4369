#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// The resource settings of a container, checked as docker's daemon checks them, for
/// `create` and `update` alike: swap against memory, the soft limit, CPU shares, cpusets
/// against the host's online CPUs and memory nodes, the CFS period and quota against
/// `--cpus`, the process limit and oom_score_adj against what this process may grant.
enum ResourceChecks {
    static func check(_ config: ContainerConfig) throws(EngineError) {
        if let memory = config.memory, memory < 6 * 1024 * 1024 {
            throw .invalidSetting(.memory, "\(memory) bytes is below the minimum of 6 MiB")
        }
        if let swap = config.memorySwap, swap != 0 {
            guard let memory = config.memory, memory > 0 else {
                throw .invalidSetting(.memorySwap, "a swap limit needs a memory limit as well")
            }
            guard swap == -1 || swap >= memory else {
                throw .invalidSetting(.memorySwap, "\(swap) is below the memory limit \(memory); the swap limit counts memory plus swap")
            }
            guard swapAccounting else {
                throw .invalidSetting(.memorySwap, "this host's memory cgroup has no swap accounting (memory.memsw.limit_in_bytes or memory.swap.max)")
            }
        }
        if let swappiness = config.memorySwappiness, !(0...100).contains(swappiness) {
            throw .invalidSetting(.memorySwappiness, "invalid value: \(swappiness), valid memory swappiness range is 0-100")
        }
        if config.oomKillDisable == true, !oomKillerSwitch {
            throw .invalidSetting(.oomKillDisable, "this host's memory cgroup cannot disable the OOM killer (cgroup v2 has no memory.oom_control)")
        }
        if let reservation = config.memoryReservation {
            guard reservation >= 0 else { throw .invalidSetting(.memoryReservation, "\(reservation) is negative") }
            if reservation > 0, reservation < 6 * 1024 * 1024 {
                throw .invalidSetting(.memoryReservation, "\(reservation) bytes is below the minimum of 6 MiB")
            }
            if let memory = config.memory, reservation > memory {
                throw .invalidSetting(.memoryReservation, "\(reservation) is above the memory limit \(memory)")
            }
        }
        if let cpus = config.cpus, cpus > 0 {
            // dockerd's bound: no more CPUs than this machine has online.
            let online = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
            if cpus > Double(online) {
                throw .invalidSetting(.cpus, "Range of CPUs is from 0.01 to \(online).00, as there are only \(online) CPUs available")
            }
        }
        if let shares = config.cpuShares, shares < 0 || shares > 262_144 {
            throw .invalidSetting(.cpuShares, "\(shares) is not between 2 and 262144")
        }
        if let cpus = config.cpusetCpus {
            try checkSet(cpus, available: "/sys/devices/system/cpu/online", what: "CPU", setting: .cpusetCpus)
        }
        if let mems = config.cpusetMems {
            try checkSet(mems, available: "/sys/devices/system/node/online", what: "memory node", setting: .cpusetMems)
        }
        if let period = config.cpuPeriod, period != 0 {
            guard config.cpus == nil else { throw .invalidSetting(.cpuPeriod, "conflicts with the CPU count (--cpus, NanoCpus): give one or the other") }
            guard period >= 1000, period <= 1_000_000 else {
                throw .invalidSetting(.cpuPeriod, "\(period) is not between 1000 and 1000000 microseconds")
            }
        }
        if let quota = config.cpuQuota, quota != 0 {
            guard config.cpus == nil else { throw .invalidSetting(.cpuQuota, "conflicts with the CPU count (--cpus, NanoCpus): give one or the other") }
            guard quota == -1 || quota >= 1000 else { throw .invalidSetting(.cpuQuota, "\(quota) is below the minimum of 1000 microseconds") }
        }
        if let pids = config.pidsLimit, pids < -1 {
            throw .invalidSetting(.pidsLimit, "\(pids) is below -1 (unlimited)")
        }
        if let score = config.oomScoreAdj {
            guard score >= -1000, score <= 1000 else { throw .invalidSetting(.oomScoreAdj, "\(score) is not between -1000 and 1000") }
            let own = HostPrivileges.ownOOMScoreAdj()
            if score < own, !HostPrivileges.canRaiseLimits {
                throw .invalidSetting(.oomScoreAdj, "\(score) is below this process's own oom_score_adj \(own), and lowering it needs CAP_SYS_RESOURCE, which it does not hold")
            }
        }
    }

    /// Whether the memory cgroup accounts swap (v1 memsw files, or v2 memory.swap.max).
    static var swapAccounting: Bool {
        Files.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
            || (Files.exists("/sys/fs/cgroup/cgroup.controllers") && Files.exists("/sys/fs/cgroup/init.scope/memory.swap.max"))
            || (!Files.exists("/sys/fs/cgroup/memory") && Files.exists("/sys/fs/cgroup/user.slice/memory.swap.max"))
    }

    /// Whether the memory cgroup can turn the OOM killer off (v1's memory.oom_control).
    static var oomKillerSwitch: Bool { Files.exists("/sys/fs/cgroup/memory/memory.oom_control") }

    /// A cpuset list ("0-2,4") whose members are all in the host's list at `available`.
    static func checkSet(_ text: String, available path: String, what: String, setting: ContainerSetting) throws(EngineError) {
        guard let wanted = parseList(text) else {
            throw .invalidSetting(setting, "invalid value \"\(text)\": expected a list such as 0-2,4")
        }
        let online = parseList((try? Files.readTrimmed(path)) ?? "0") ?? [0]
        if let missing = wanted.first(where: { !online.contains($0) }) {
            throw .invalidSetting(setting, "\(what) \(missing) of \"\(text)\" is not available on this host (it has \((try? Files.readTrimmed(path)) ?? "0"))")
        }
    }

    /// "0-2,4" as its members; nil when malformed.
    static func parseList(_ text: String) -> Set<Int>? {
        var members = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard bounds.count <= 2, let low = bounds.first ?? nil, let high = bounds.last ?? nil, low >= 0, low <= high,
                  high < 4096 else { return nil }
            members.formUnion(low...high)
        }
        return members.isEmpty ? nil : members
    }
}
