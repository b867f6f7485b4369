import ArgumentParser
import CaissonSys
import Engine

/// `run`/`create` flags for the container's host settings, as docker spells them: DNS and
/// /etc/hosts, sysctls, ulimits, /dev/shm, groups, devices, namespace modes, the finer
/// memory and CPU limits, log rotation, `--mount`, `--expose` and network aliases. Values
/// are read here; the engine checks them (`EngineError.invalidSetting` names the flag).
struct HostOptions: ParsableArguments {
    @Option(help: "Expose a port or a range of ports (80, 80/udp, 8000-8010).") var expose: [String] = []
    @Option(help: "Attach a filesystem mount: type=bind|volume|tmpfs,source=...,target=...[,readonly][,...].") var mount: [String] = []
    @Option(help: "Set a custom DNS server.") var dns: [String] = []
    @Option(name: .customLong("dns-search"), help: "Set a custom DNS search domain.") var dnsSearch: [String] = []
    @Option(name: [.customLong("dns-option"), .customLong("dns-opt")], help: "Set a DNS option.") var dnsOption: [String] = []
    @Option(name: .customLong("add-host"), help: "Add a host-to-IP mapping (host:ip, ip may be host-gateway).") var addHost: [String] = []
    @Option(help: "Sysctl options (KEY=VALUE).") var sysctl: [String] = []
    @Option(help: "Ulimit options (NAME=SOFT[:HARD]).") var ulimit: [String] = []
    @Option(name: .customLong("shm-size"), help: "Size of /dev/shm (e.g. 128m).") var shmSize: String?
    @Option(name: .customLong("group-add"), help: "Add an additional group to join.") var groupAdd: [String] = []
    @Option(help: "Add a host device to the container (HOST[:CONTAINER][:rwm]).") var device: [String] = []
    @Option(help: "PID namespace to use (host, container:NAME).") var pid: String?
    @Option(help: "IPC mode to use (host, private, shareable).") var ipc: String?
    @Option(help: "UTS namespace to use (host).") var uts: String?
    @Option(name: .customLong("memory-swap"), help: "Memory plus swap limit (-1: unlimited swap).") var memorySwap: String?
    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit.") var memoryReservation: String?
    @Option(name: .customLong("memory-swappiness"), help: "Tune the container's memory swappiness (0 to 100).") var memorySwappiness: Int64?
    @Flag(name: .customLong("oom-kill-disable"), help: "Disable the OOM killer for the container (cgroup v1 hosts).") var oomKillDisable = false
    @Option(name: [.customShort("c"), .customLong("cpu-shares")], help: "CPU shares (relative weight).") var cpuShares: Int64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs in which to allow execution (0-3, 0,1).") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "Memory nodes in which to allow execution (0-3, 0,1).") var cpusetMems: String?
    @Option(name: .customLong("cpu-period"), help: "Limit the CPU CFS period (microseconds).") var cpuPeriod: Int64?
    @Option(name: .customLong("cpu-quota"), help: "Limit the CPU CFS quota (microseconds).") var cpuQuota: Int64?
    @Option(name: .customLong("oom-score-adj"), help: "Tune the container's OOM preferences (-1000 to 1000).") var oomScoreAdj: Int?
    @Option(name: .customLong("log-driver"), help: "Logging driver (json-file).") var logDriver: String?
    @Option(name: .customLong("log-opt"), help: "Log driver options (max-size=10m, max-file=3).") var logOpt: [String] = []
    @Option(name: .customLong("network-alias"), help: "Add a network-scoped alias for the container.") var networkAlias: [String] = []

    func apply(to config: inout ContainerConfig) throws {
        var exposed: [String] = []
        for item in expose {
            let parts = item.split(separator: "/", maxSplits: 1).map(String.init)
            guard let range = ContainerOptions.range(parts[0]) else { throw CLIError.usage("invalid --expose \"\(item)\": expected PORT[-PORT][/PROTO]") }
            exposed += range.map { "\($0)/\(parts.count > 1 ? parts[1] : "tcp")" }
        }
        if !exposed.isEmpty { config.exposedPorts = exposed }
        for item in mount { config.mounts.append(try MountRequest.parseMountFlag(item)) }
        if !dns.isEmpty { config.dns = dns }
        if !dnsSearch.isEmpty { config.dnsSearch = dnsSearch }
        if !dnsOption.isEmpty { config.dnsOptions = dnsOption }
        if !addHost.isEmpty { config.extraHosts = addHost }
        if !sysctl.isEmpty {
            var values: [String: String] = [:]
            for item in sysctl {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw CLIError.usage("invalid --sysctl \"\(item)\": expected KEY=VALUE") }
                values[parts[0]] = parts[1]
            }
            config.sysctls = values
        }
        if !ulimit.isEmpty { config.ulimits = try ulimit.map { item throws(EngineError) in try Ulimit.parse(item) } }
        if let shmSize { config.shmSize = try ContainerOptions.parseSize(shmSize, flag: "--shm-size") }
        if !groupAdd.isEmpty { config.groupAdd = groupAdd }
        if !device.isEmpty { config.devices = try device.map { item throws(EngineError) in try DeviceMapping.parse(item) } }
        config.pidMode = pid
        config.ipcMode = ipc
        config.utsMode = uts
        if let memorySwap {
            config.memorySwap = memorySwap == "-1" ? -1 : try ContainerOptions.parseSize(memorySwap, flag: "--memory-swap")
        }
        if let memoryReservation { config.memoryReservation = try ContainerOptions.parseSize(memoryReservation, flag: "--memory-reservation") }
        if let memorySwappiness, memorySwappiness != -1 { config.memorySwappiness = memorySwappiness }
        if oomKillDisable { config.oomKillDisable = true }
        config.cpuShares = cpuShares
        config.cpusetCpus = cpusetCpus
        config.cpusetMems = cpusetMems
        config.cpuPeriod = cpuPeriod
        config.cpuQuota = cpuQuota
        config.oomScoreAdj = oomScoreAdj
        if let logDriver, logDriver != "json-file" {
            throw CLIError.usage("invalid --log-driver \"\(logDriver)\": only json-file is supported")
        }
        var options: [String: String] = [:]
        for item in logOpt {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw CLIError.usage("invalid --log-opt \"\(item)\": expected KEY=VALUE") }
            options[parts[0]] = parts[1]
        }
        config.logRotation = try LogRotation.parse(options: options)
        if !networkAlias.isEmpty { config.networkAliases = networkAlias }
    }
}
