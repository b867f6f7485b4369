import CaissonJSON
import Engine

/// HostConfig's settings of the create body (all but ports and mounts) into the engine's
/// `ContainerConfig`: network mode, restart policy, capabilities, security options (the
/// engine reads their strings), DNS and hosts, sysctls, ulimits, /dev/shm, groups,
/// devices, namespace modes, resources, oom_score_adj and json-file log options.
enum HostConfigRequest {
    /// The fields read here or by `PortsRequest`/`MountsRequest`, those whose zero value
    /// is accepted (MemorySwappiness -1, CgroupnsMode private, ...), and those that mean
    /// nothing to the engine (the client's ContainerIDFile).
    static let fields: Set<String> = [
        "Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings", "RestartPolicy", "AutoRemove",
        "VolumeDriver", "ConsoleSize", "CapAdd", "CapDrop", "CgroupnsMode", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts",
        "GroupAdd", "IpcMode", "OomScoreAdj", "PidMode", "Privileged", "PublishAllPorts", "ReadonlyRootfs", "SecurityOpt",
        "Tmpfs", "UTSMode", "UsernsMode", "ShmSize", "Sysctls", "Runtime", "Isolation", "CpuShares", "Memory", "NanoCpus",
        "CpuPeriod", "CpuQuota", "CpusetCpus", "CpusetMems", "Devices", "MemoryReservation", "MemorySwap",
        "MemorySwappiness", "OomKillDisable", "Init", "PidsLimit", "Ulimits", "Mounts", "MaskedPaths", "ReadonlyPaths",
    ]

    static func apply(_ host: JSONBody, to config: inout ContainerConfig) throws(DockerAPIError) {
        try host.refuseFields(except: fields)
        try refuseValues(host)
        if let mode = try host.string("NetworkMode"), !mode.isEmpty {
            if mode.hasPrefix("container:") {
                throw .badParameter("invalid field HostConfig.NetworkMode: \(mode): sharing another container's network namespace is not supported")
            }
            config.network = mode == "default" ? "bridge" : mode
        }
        config.autoRemove = try host.bool("AutoRemove") ?? false
        if let size = try host.ints("ConsoleSize"), size.count == 2, size[0] > 0, size[1] > 0 {
            guard size.allSatisfy({ $0 <= 65535 }) else {
                throw .badParameter("invalid field HostConfig.ConsoleSize: \(size[0])x\(size[1])")
            }
            config.consoleSize = size
        }
        config.privileged = try host.bool("Privileged") ?? false
        config.readOnly = try host.bool("ReadonlyRootfs") ?? false
        config.capAdd = try host.strings("CapAdd") ?? []
        config.capDrop = try host.strings("CapDrop") ?? []
        if let initProcess = try host.bool("Init") { config.initProcess = initProcess }
        if let runtime = try host.string("Runtime"), !runtime.isEmpty { config.runtime = runtime }
        if let policy = try host.object("RestartPolicy"), let name = try policy.string("Name"), !name.isEmpty {
            let retries = try policy.int64("MaximumRetryCount") ?? 0
            let restart = name == "on-failure" && retries > 0 ? "on-failure:\(retries)" : name
            do { try ContainerConfig.checkRestartPolicy(restart, autoRemove: config.autoRemove) } catch {
                throw .badParameter("invalid field HostConfig.RestartPolicy: \(error)")
            }
            config.restart = restart
        }
        let securityOptions = try host.strings("SecurityOpt") ?? []
        do { try config.applySecurityOptions(securityOptions) } catch { throw DockerAPIError.from(engine: error) }
        config.dns = try nonEmpty(host.strings("Dns"))
        config.dnsSearch = try nonEmpty(host.strings("DnsSearch"))
        config.dnsOptions = try nonEmpty(host.strings("DnsOptions"))
        config.extraHosts = try nonEmpty(host.strings("ExtraHosts"))
        config.groupAdd = try nonEmpty(host.strings("GroupAdd"))
        if let sysctls = try host.stringMap("Sysctls"), !sysctls.isEmpty { config.sysctls = sysctls }
        config.ulimits = try ulimits(host)
        config.devices = try devices(host)
        config.pidMode = try nonEmpty(host.string("PidMode"))
        config.ipcMode = try nonEmpty(host.string("IpcMode"))
        config.utsMode = try nonEmpty(host.string("UTSMode"))
        try applyResources(host, to: &config)
        if let log = try host.object("LogConfig") {
            try log.refuseFields(except: ["Type", "Config"])
            if let type = try log.string("Type"), !type.isEmpty, type != "json-file" {
                throw .badParameter("invalid field HostConfig.LogConfig.Type: \(type) is not supported (json-file is)")
            }
            let options = try log.stringMap("Config") ?? [:]
            do { config.logRotation = try LogRotation.parse(options: options) } catch { throw DockerAPIError.from(engine: error) }
        }
    }

    static func applyResources(_ host: JSONBody, to config: inout ContainerConfig) throws(DockerAPIError) {
        if let memory = try positive(host, "Memory") { config.memory = memory }
        if let nanoCPUs = try positive(host, "NanoCpus") { config.cpus = Double(nanoCPUs) / 1e9 }
        if let pids = try host.int64("PidsLimit"), pids != 0 {
            guard pids > 0 || pids == -1 else { throw .badParameter("invalid field HostConfig.PidsLimit: \(pids)") }
            config.pidsLimit = pids
        }
        if let swap = try host.int64("MemorySwap"), swap != 0 { config.memorySwap = swap }
        if let reservation = try host.int64("MemoryReservation"), reservation != 0 { config.memoryReservation = reservation }
        // -1 (docker's "not set") or null: the host's swappiness.
        if let swappiness = try host.int64("MemorySwappiness"), swappiness != -1 { config.memorySwappiness = swappiness }
        if try host.bool("OomKillDisable") == true { config.oomKillDisable = true }
        if let shares = try host.int64("CpuShares"), shares != 0 { config.cpuShares = shares }
        if let period = try host.int64("CpuPeriod"), period != 0 { config.cpuPeriod = period }
        if let quota = try host.int64("CpuQuota"), quota != 0 { config.cpuQuota = quota }
        config.cpusetCpus = try nonEmpty(host.string("CpusetCpus"))
        config.cpusetMems = try nonEmpty(host.string("CpusetMems"))
        if let score = try host.int64("OomScoreAdj"), score != 0 { config.oomScoreAdj = Int(score) }
        if let size = try host.int64("ShmSize"), size != 0 {
            guard size > 0 else { throw .badParameter("invalid field HostConfig.ShmSize: \(size) is negative") }
            config.shmSize = size
        }
    }

    /// Values of accepted fields that only their zero (or docker's default) may have.
    static func refuseValues(_ host: JSONBody) throws(DockerAPIError) {
        // What inspect shows (a client that copies a container's HostConfig sends them back):
        // the engine's own lists are taken, others refused.
        for (key, defaults) in [("MaskedPaths", ContainerInspection.maskedPaths), ("ReadonlyPaths", ContainerInspection.readonlyPaths)] {
            if let paths = try host.strings(key), !paths.isEmpty, Set(paths) != Set(defaults) {
                throw .badParameter("invalid field HostConfig.\(key): only the default paths are supported")
            }
        }
        let allowed: [(String, [String])] = [
            ("CgroupnsMode", ["", "private"]), ("UsernsMode", ["", "host"]), ("Isolation", ["", "default"]),
            ("VolumeDriver", ["", "local"]),
        ]
        for (key, values) in allowed {
            if let value = try host.string(key), !values.contains(value) {
                throw .badParameter("invalid field HostConfig.\(key): \(value) is not supported (\(values.filter { !$0.isEmpty }.joined(separator: " or ")) is)")
            }
        }
    }

    static func ulimits(_ host: JSONBody) throws(DockerAPIError) -> [Ulimit]? {
        guard let items = try host.objects("Ulimits"), !items.isEmpty else { return nil }
        var limits: [Ulimit] = []
        for item in items {
            try item.refuseFields(except: ["Name", "Soft", "Hard"])
            guard let name = try item.string("Name"), !name.isEmpty else { throw .badParameter("invalid field \(item.path("Name")): no name given") }
            limits.append(Ulimit(name: name, soft: try item.int64("Soft") ?? 0, hard: try item.int64("Hard") ?? 0))
        }
        return limits
    }

    static func devices(_ host: JSONBody) throws(DockerAPIError) -> [DeviceMapping]? {
        guard let items = try host.objects("Devices"), !items.isEmpty else { return nil }
        var devices: [DeviceMapping] = []
        for item in items {
            try item.refuseFields(except: ["PathOnHost", "PathInContainer", "CgroupPermissions"])
            guard let source = try item.string("PathOnHost"), !source.isEmpty else {
                throw .badParameter("invalid field \(item.path("PathOnHost")): no device given")
            }
            let target = try item.string("PathInContainer").flatMap { $0.isEmpty ? nil : $0 } ?? source
            let permissions = try item.string("CgroupPermissions").flatMap { $0.isEmpty ? nil : $0 } ?? "rwm"
            devices.append(DeviceMapping(pathOnHost: source, pathInContainer: target, permissions: permissions))
        }
        return devices
    }

    static func positive(_ host: JSONBody, _ key: String) throws(DockerAPIError) -> Int64? {
        guard let value = try host.int64(key), value != 0 else { return nil }
        guard value > 0 else { throw .badParameter("invalid field \(host.path(key)): \(value) is negative") }
        return value
    }

    static func nonEmpty(_ values: [String]?) -> [String]? { values.flatMap { $0.isEmpty ? nil : $0 } }
    static func nonEmpty(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
}
