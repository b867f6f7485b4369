import ArgumentParser
import Engine

/// `caisson update`: a container's limits and restart policy changed (docker update),
/// through the engine's `update`, which the Docker Engine API's update endpoint calls too.
struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update the resource limits of containers.",
                                                    usage: "caisson update [OPTIONS] CONTAINER [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: [.customShort("m"), .long], help: "Memory limit (e.g. 64m, 1g).") var memory: String?
    @Option(name: .customLong("memory-swap"), help: "Memory plus swap limit (-1: unlimited swap).") var memorySwap: String?
    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit.") var memoryReservation: String?
    @Option(help: "CPUs (e.g. 0.5).") var cpus: Double?
    @Option(name: [.customShort("c"), .customLong("cpu-shares")], help: "CPU shares (relative weight).") var cpuShares: Int64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs in which to allow execution (0-3, 0,1).") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "Memory nodes in which to allow execution.") var cpusetMems: String?
    @Option(name: .customLong("cpu-period"), help: "Limit the CPU CFS period (microseconds).") var cpuPeriod: Int64?
    @Option(name: .customLong("cpu-quota"), help: "Limit the CPU CFS quota (microseconds).") var cpuQuota: Int64?
    @Option(name: .customLong("pids-limit"), help: "Process limit (-1: unlimited).") var pidsLimit: Int64?
    @Option(help: "Restart policy: no, always, unless-stopped, on-failure[:N].") var restart: String?
    @Argument var containers: [String] = []

    func validate() throws { if containers.isEmpty { throw ValidationError("\"update\" requires at least 1 argument.") } }

    func run() throws {
        var change = ContainerUpdate()
        if let memory { change.memory = try ContainerOptions.parseSize(memory, flag: "--memory") }
        if let memorySwap { change.memorySwap = memorySwap == "-1" ? -1 : try ContainerOptions.parseSize(memorySwap, flag: "--memory-swap") }
        if let memoryReservation { change.memoryReservation = try ContainerOptions.parseSize(memoryReservation, flag: "--memory-reservation") }
        if let cpus {
            guard cpus > 0 else { throw CLIError.usage("invalid --cpus \(cpus): must be above 0") }
            change.cpus = cpus
        }
        change.cpuShares = cpuShares
        change.cpusetCpus = cpusetCpus
        change.cpusetMems = cpusetMems
        change.cpuPeriod = cpuPeriod
        change.cpuQuota = cpuQuota
        change.pidsLimit = pidsLimit
        change.restart = restart
        guard !change.isEmpty else { throw CLIError.usage("you must provide one or more flags when using this command") }
        let engine = try global.engine()
        try forEach(containers) { name in
            try engine.update(name, change)
            print(name)
        }
    }
}
