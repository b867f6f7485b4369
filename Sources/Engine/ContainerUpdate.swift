#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// What `update` may change of a container (docker update, POST /containers/{id}/update):
/// nil leaves a setting as it is.
public struct ContainerUpdate: Sendable, Equatable {
    public var memory: Int64?
    public var memorySwap: Int64?
    public var memoryReservation: Int64?
    public var cpus: Double?
    public var cpuShares: Int64?
    public var cpusetCpus: String?
    public var cpusetMems: String?
    public var cpuPeriod: Int64?
    public var cpuQuota: Int64?
    public var pidsLimit: Int64?
    public var restart: String?

    public init() {}

    public var isEmpty: Bool { self == ContainerUpdate() }
}

extension ContainerEngine {
    /// Changes a container's limits (and restart policy): checked as at create, recorded,
    /// written into its config.json for the next start, and applied to its cgroup through
    /// the runtime while it runs; a new restart policy reaches its running monitor too.
    public func update(_ id: String, _ change: ContainerUpdate) throws(EngineError) {
        var record = try find(id)
        var config = record.config
        if let memory = change.memory { config.memory = memory }
        if let swap = change.memorySwap { config.memorySwap = swap }
        if let reservation = change.memoryReservation { config.memoryReservation = reservation }
        if let cpus = change.cpus { config.cpus = cpus }
        if let shares = change.cpuShares { config.cpuShares = shares }
        if let cpus = change.cpusetCpus { config.cpusetCpus = cpus }
        if let mems = change.cpusetMems { config.cpusetMems = mems }
        if let period = change.cpuPeriod { config.cpuPeriod = period }
        if let quota = change.cpuQuota { config.cpuQuota = quota }
        if let pids = change.pidsLimit { config.pidsLimit = pids }
        try ResourceChecks.check(config)
        if let restart = change.restart {
            if config.autoRemove, restart != "no" {
                throw .invalidSetting(.restart, "the restart policy cannot be changed because the container removes itself when it exits (--rm)")
            }
            try ContainerConfig.checkRestartPolicy(restart, autoRemove: config.autoRemove)
            config.restart = restart
        }
        let running = state(of: record)
        if running.isRunning {
            let arguments = ContainerEngine.updateArguments(change)
            if !arguments.isEmpty { try runtime(record, ["update"] + arguments + [record.id]) }
        }
        record.config = config
        try store.update(record)
        try rewriteSpec(record)
        if let restart = change.restart, running.monitorPID != nil {
            try? Files.write(directory(of: record.id) + "/restart-policy", restart + "\n")
        }
        event("update", record)
    }

    /// The runtime's `update` flags (runc's) for a change.
    static func updateArguments(_ change: ContainerUpdate) -> [String] {
        var arguments: [String] = []
        if let memory = change.memory { arguments += ["--memory", String(memory)] }
        if let swap = change.memorySwap { arguments += ["--memory-swap", String(swap)] }
        if let reservation = change.memoryReservation { arguments += ["--memory-reservation", String(reservation)] }
        if let cpus = change.cpus { arguments += ["--cpu-period", "100000", "--cpu-quota", String(Int64(cpus * 100_000))] }
        if let period = change.cpuPeriod { arguments += ["--cpu-period", String(period)] }
        if let quota = change.cpuQuota { arguments += ["--cpu-quota", String(quota)] }
        if let shares = change.cpuShares { arguments += ["--cpu-share", String(max(shares, 2))] }
        if let cpus = change.cpusetCpus { arguments += ["--cpuset-cpus", cpus] }
        if let mems = change.cpusetMems { arguments += ["--cpuset-mems", mems] }
        if let pids = change.pidsLimit { arguments += ["--pids-limit", String(pids)] }
        return arguments
    }
}
