/// One setting of a container's configuration, named in the errors the engine gives for
/// its value. The engine checks values once for every front end; each front end names the
/// setting in its own words: `caisson run` by its flag (`flag`, docker's spelling), the
/// Docker Engine API by its JSON field (`HostConfig.Ulimits`, in DockerAPI).
public enum ContainerSetting: String, Sendable, CaseIterable {
    case publish, publishAll, expose, volume, mount, tmpfs
    case dns, dnsSearch, dnsOption, addHost, sysctl, ulimit, shmSize, groupAdd, device, securityOpt
    case pid, ipc, uts
    case memory, memorySwap, memoryReservation, cpus, cpuShares, cpusetCpus, cpusetMems, cpuPeriod, cpuQuota
    case pidsLimit, oomScoreAdj, logOpt, network, networkAlias, restart, capAdd, capDrop, stopSignal
    case memorySwappiness, oomKillDisable, domainname

    /// The `caisson run`/`create` flag, as docker spells it.
    public var flag: String {
        switch self {
        case .publish: return "--publish"
        case .publishAll: return "--publish-all"
        case .expose: return "--expose"
        case .volume: return "--volume"
        case .mount: return "--mount"
        case .tmpfs: return "--tmpfs"
        case .dns: return "--dns"
        case .dnsSearch: return "--dns-search"
        case .dnsOption: return "--dns-option"
        case .addHost: return "--add-host"
        case .sysctl: return "--sysctl"
        case .ulimit: return "--ulimit"
        case .shmSize: return "--shm-size"
        case .groupAdd: return "--group-add"
        case .device: return "--device"
        case .securityOpt: return "--security-opt"
        case .pid: return "--pid"
        case .ipc: return "--ipc"
        case .uts: return "--uts"
        case .memory: return "--memory"
        case .memorySwap: return "--memory-swap"
        case .memoryReservation: return "--memory-reservation"
        case .cpus: return "--cpus"
        case .cpuShares: return "--cpu-shares"
        case .cpusetCpus: return "--cpuset-cpus"
        case .cpusetMems: return "--cpuset-mems"
        case .cpuPeriod: return "--cpu-period"
        case .cpuQuota: return "--cpu-quota"
        case .pidsLimit: return "--pids-limit"
        case .oomScoreAdj: return "--oom-score-adj"
        case .logOpt: return "--log-opt"
        case .network: return "--network"
        case .networkAlias: return "--network-alias"
        case .restart: return "--restart"
        case .capAdd: return "--cap-add"
        case .capDrop: return "--cap-drop"
        case .stopSignal: return "--stop-signal"
        case .memorySwappiness: return "--memory-swappiness"
        case .oomKillDisable: return "--oom-kill-disable"
        case .domainname: return "--domainname"
        }
    }
}
