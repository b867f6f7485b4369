import Engine

/// The create body's field for each engine setting, so that a value the engine refuses
/// (`EngineError.invalidSetting`) comes back as a 400 naming the field the client sent.
extension ContainerSetting {
    var apiField: String {
        switch self {
        case .publish: return "HostConfig.PortBindings"
        case .publishAll: return "HostConfig.PublishAllPorts"
        case .expose: return "ExposedPorts"
        case .volume: return "HostConfig.Binds"
        case .mount: return "HostConfig.Mounts"
        case .tmpfs: return "HostConfig.Tmpfs"
        case .dns: return "HostConfig.Dns"
        case .dnsSearch: return "HostConfig.DnsSearch"
        case .dnsOption: return "HostConfig.DnsOptions"
        case .addHost: return "HostConfig.ExtraHosts"
        case .sysctl: return "HostConfig.Sysctls"
        case .ulimit: return "HostConfig.Ulimits"
        case .shmSize: return "HostConfig.ShmSize"
        case .groupAdd: return "HostConfig.GroupAdd"
        case .device: return "HostConfig.Devices"
        case .securityOpt: return "HostConfig.SecurityOpt"
        case .pid: return "HostConfig.PidMode"
        case .ipc: return "HostConfig.IpcMode"
        case .uts: return "HostConfig.UTSMode"
        case .memory: return "HostConfig.Memory"
        case .memorySwap: return "HostConfig.MemorySwap"
        case .memoryReservation: return "HostConfig.MemoryReservation"
        case .cpus: return "HostConfig.NanoCpus"
        case .cpuShares: return "HostConfig.CpuShares"
        case .cpusetCpus: return "HostConfig.CpusetCpus"
        case .cpusetMems: return "HostConfig.CpusetMems"
        case .cpuPeriod: return "HostConfig.CpuPeriod"
        case .cpuQuota: return "HostConfig.CpuQuota"
        case .pidsLimit: return "HostConfig.PidsLimit"
        case .oomScoreAdj: return "HostConfig.OomScoreAdj"
        case .logOpt: return "HostConfig.LogConfig.Config"
        case .network: return "HostConfig.NetworkMode"
        case .networkAlias: return "NetworkingConfig.EndpointsConfig.Aliases"
        case .restart: return "HostConfig.RestartPolicy"
        case .capAdd: return "HostConfig.CapAdd"
        case .capDrop: return "HostConfig.CapDrop"
        case .stopSignal: return "StopSignal"
        case .memorySwappiness: return "HostConfig.MemorySwappiness"
        case .oomKillDisable: return "HostConfig.OomKillDisable"
        case .domainname: return "Domainname"
        }
    }
}
