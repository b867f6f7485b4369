import Engine

/// `POST /containers/create`'s body (docker's ContainerConfig with HostConfig inside) as
/// the engine's `ContainerConfig`, the same one `caisson create` builds from its flags;
/// bind specifications and restart policies go through the engine's parsers the CLI uses.
enum ContainerCreateRequest {
    static func config(from bytes: [UInt8]) throws(DockerAPIError) -> ContainerConfig {
        let body = try JSONBody(parsing: bytes)
        guard let image = try body.string("Image"), !image.isEmpty else {
            throw .badParameter("invalid field Image: no image given")
        }
        var config = ContainerConfig(image: image)
        if let command = try body.strings("Cmd", acceptingString: true), !command.isEmpty { config.command = command }
        if let entrypoint = try body.strings("Entrypoint", acceptingString: true) {
            // docker --entrypoint "" sends [""]: no entrypoint at all.
            config.entrypoint = entrypoint.allSatisfy(\.isEmpty) ? [] : entrypoint
        }
        config.env = try body.strings("Env") ?? []
        if let directory = try body.string("WorkingDir"), !directory.isEmpty {
            guard directory.hasPrefix("/") else {
                throw .badParameter("invalid field WorkingDir: the working directory '\(directory)' is invalid, it needs to be an absolute path")
            }
            config.workingDir = directory
        }
        if let user = try body.string("User"), !user.isEmpty { config.user = user }
        if let hostname = try body.string("Hostname"), !hostname.isEmpty { config.hostname = hostname }
        config.labels = try body.stringMap("Labels") ?? [:]
        config.tty = try body.bool("Tty") ?? false
        config.interactive = try body.bool("OpenStdin") ?? false
        config.stdinOnce = try body.bool("StdinOnce")
        if let signal = try body.string("StopSignal"), !signal.isEmpty { config.stopSignal = signal }
        if let timeout = try body.int64("StopTimeout") { config.stopTimeout = Int(timeout) }
        if let check = try body.object("Healthcheck") { config.healthcheck = try healthcheck(check) }
        if let host = try body.object("HostConfig") { try apply(host, to: &config) }
        try refuseUnsupported(body, host: try body.object("HostConfig"))
        return config
    }

    /// Fields of the create body this engine does not carry out yet. Set to anything but
    /// their zero value, they are refused by name (400) rather than ignored, so a client
    /// never believes it got a port, a mount or a limit it did not get.
    static let unsupportedConfigFields = ["ExposedPorts", "Volumes", "OnBuild", "Shell"]
    static let unsupportedHostFields = [
        "PortBindings", "PublishAllPorts", "Mounts", "Tmpfs", "SecurityOpt", "Ulimits", "Devices", "DeviceRequests",
        "DeviceCgroupRules", "ExtraHosts", "Dns", "DnsSearch", "DnsOptions", "Sysctls", "GroupAdd", "PidMode", "IpcMode",
        "UTSMode", "UsernsMode", "CgroupnsMode", "ShmSize", "MemorySwap", "MemoryReservation", "MemorySwappiness",
        "KernelMemory", "CpuShares", "CpuPeriod", "CpuQuota", "CpusetCpus", "CpusetMems", "BlkioWeight", "OomKillDisable",
        "OomScoreAdj", "VolumesFrom", "Links", "CgroupParent", "VolumeDriver", "StorageOpt", "Annotations", "MaskedPaths",
        "ReadonlyPaths",
    ]

    static func refuseUnsupported(_ body: JSONBody, host: JSONBody?) throws(DockerAPIError) {
        if let host {
            for key in unsupportedHostFields where host.isSet(key) {
                // MemorySwappiness -1 is docker's "unset".
                if key == "MemorySwappiness", case .number(let text)? = host.object[key], Int(text) == -1 { continue }
                throw .badParameter("invalid field \(host.path(key)): not supported by Caisson's API yet")
            }
            if let log = try host.object("LogConfig"), let type = try log.string("Type"), !type.isEmpty, type != "json-file" {
                throw .badParameter("invalid field HostConfig.LogConfig.Type: \(type) is not supported (json-file is)")
            }
        }
        for key in unsupportedConfigFields where body.isSet(key) {
            throw .badParameter("invalid field \(body.path(key)): not supported by Caisson's API yet")
        }
    }

    /// `Config.Healthcheck`: Test (`["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]`, or
    /// `[]` for the image's), durations in nanoseconds, zero for the image's or docker's
    /// default; the engine checks the values as docker's daemon does.
    static func healthcheck(_ body: JSONBody) throws(DockerAPIError) -> HealthConfig {
        var check = HealthConfig(test: try body.strings("Test").flatMap { $0.isEmpty ? nil : $0 })
        func nonZero(_ key: String) throws(DockerAPIError) -> Int64? {
            guard let value = try body.int64(key), value != 0 else { return nil }
            return value
        }
        check.Interval = try nonZero("Interval")
        check.Timeout = try nonZero("Timeout")
        check.StartPeriod = try nonZero("StartPeriod")
        check.StartInterval = try nonZero("StartInterval")
        if let retries = try nonZero("Retries") {
            guard let value = Int(exactly: retries) else { throw .badParameter("invalid field \(body.path("Retries")): \(retries)") }
            check.Retries = value
        }
        return check
    }

    static func apply(_ host: JSONBody, to config: inout ContainerConfig) throws(DockerAPIError) {
        for bind in try host.strings("Binds") ?? [] {
            do { config.mounts.append(try MountRequest.parseVolume(bind)) } catch {
                throw .badParameter("invalid field HostConfig.Binds: \(error)")
            }
        }
        if let mode = try host.string("NetworkMode"), !mode.isEmpty { config.network = mode == "default" ? "bridge" : mode }
        config.autoRemove = try host.bool("AutoRemove") ?? false
        config.privileged = try host.bool("Privileged") ?? false
        config.readOnly = try host.bool("ReadonlyRootfs") ?? false
        config.capAdd = try host.strings("CapAdd") ?? []
        config.capDrop = try host.strings("CapDrop") ?? []
        if let memory = try host.int64("Memory"), memory != 0 {
            guard memory > 0 else { throw .badParameter("invalid field HostConfig.Memory: \(memory) is negative") }
            config.memory = memory
        }
        if let nanoCPUs = try host.int64("NanoCpus"), nanoCPUs != 0 {
            guard nanoCPUs > 0 else { throw .badParameter("invalid field HostConfig.NanoCpus: \(nanoCPUs) is negative") }
            config.cpus = Double(nanoCPUs) / 1e9
        }
        if let pids = try host.int64("PidsLimit"), pids != 0 {
            guard pids > 0 || pids == -1 else { throw .badParameter("invalid field HostConfig.PidsLimit: \(pids)") }
            config.pidsLimit = pids
        }
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
    }
}
