import CaissonJSON

/// The parts of `docker inspect`'s container document that show the container's
/// settings (HostConfig, Config.ExposedPorts/Volumes, NetworkSettings.Ports, Mounts), with
/// docker's field names and its values for what was not set, for `caisson inspect` and
/// the Docker Engine API alike.
extension ContainerInspection {
    /// docker's `HostConfig`, every field in its order: what was set, docker's zero value
    /// (null, "", 0, []) for the rest, as dockerd 20.10 shows them.
    static func hostConfig(_ record: ContainerRecord) -> JSONObject {
        let config = record.config
        func strings(_ values: [String]?) -> JSONValue { .array((values ?? []).map { .string($0) }) }
        func stringsOrNull(_ values: [String]?) -> JSONValue { (values ?? []).isEmpty ? .null : strings(values) }
        func number<T: BinaryInteger>(_ value: T?) -> JSONValue { .number(String(value ?? 0)) }
        let zero = JSONValue.number("0")
        var host = JSONObject()
        let binds = config.mounts.filter { $0.kind == .bind || ($0.kind == .volume && $0.anonymous != true) }
            .map { $0.source + ":" + $0.destination + ($0.readOnly ? ":ro" : "") }
        host.set("Binds", stringsOrNull(binds))
        host.set("ContainerIDFile", .string(""))
        var log = JSONObject()
        log.set("Type", .string("json-file"))
        var options = JSONObject()
        if let rotation = config.logRotation {
            options.set("max-size", .string(String(rotation.maxSize)))
            options.set("max-file", .string(String(rotation.maxFiles)))
        }
        log.set("Config", .object(options))
        host.set("LogConfig", .object(log))
        host.set("NetworkMode", .string(config.network))
        host.set("PortBindings", .object(portBindings(config.ports)))
        var restart = JSONObject()
        let policy = config.restart.split(separator: ":")
        restart.set("Name", .string(String(policy.first ?? "no")))
        restart.set("MaximumRetryCount", .number(policy.count > 1 ? String(policy[1]) : "0"))
        host.set("RestartPolicy", .object(restart))
        host.set("AutoRemove", .bool(config.autoRemove))
        host.set("VolumeDriver", .string(""))
        host.set("VolumesFrom", .null)
        host.set("CapAdd", stringsOrNull(config.capAdd))
        host.set("CapDrop", stringsOrNull(config.capDrop))
        // The engine's containers have a cgroup namespace of their own (dockerd's default on
        // cgroup v2; on v1 it says "host" because it makes none).
        host.set("CgroupnsMode", .string("private"))
        host.set("Dns", strings(config.dns))
        host.set("DnsOptions", strings(config.dnsOptions))
        host.set("DnsSearch", strings(config.dnsSearch))
        host.set("ExtraHosts", stringsOrNull(config.extraHosts))
        host.set("GroupAdd", stringsOrNull(config.groupAdd))
        host.set("IpcMode", .string(config.ipcMode.flatMap { $0.isEmpty ? nil : $0 } ?? "private"))
        host.set("Cgroup", .string(""))
        host.set("Links", .null)
        host.set("OomScoreAdj", number(config.oomScoreAdj))
        host.set("PidMode", .string(config.pidMode ?? ""))
        host.set("Privileged", .bool(config.privileged))
        host.set("PublishAllPorts", .bool(config.publishAll))
        host.set("ReadonlyRootfs", .bool(config.readOnly))
        host.set("SecurityOpt", stringsOrNull(config.securityOptions))
        var tmpfs = JSONObject()
        for mount in config.mounts where mount.kind == .tmpfs {
            tmpfs.set(mount.destination, .string(mount.options.joined(separator: ",")))
        }
        if !tmpfs.keys.isEmpty { host.set("Tmpfs", .object(tmpfs)) }
        host.set("UTSMode", .string(config.utsMode ?? ""))
        host.set("UsernsMode", .string(""))
        host.set("ShmSize", number(config.shmSize ?? 64 * 1024 * 1024))
        var sysctls = JSONObject()
        for (key, value) in (config.sysctls ?? [:]).sorted(by: { $0.key < $1.key }) { sysctls.set(key, .string(value)) }
        if !sysctls.keys.isEmpty { host.set("Sysctls", .object(sysctls)) }
        host.set("Runtime", .string(config.runtime))
        let size = config.consoleSize.flatMap { $0.count == 2 ? $0 : nil } ?? [0, 0]
        host.set("ConsoleSize", .array(size.map { .number(String($0)) }))
        host.set("Isolation", .string(""))
        host.set("CpuShares", number(config.cpuShares))
        host.set("Memory", number(config.memory))
        host.set("NanoCpus", .number(String(Int64((config.cpus ?? 0) * 1e9))))
        host.set("CgroupParent", .string(""))
        host.set("BlkioWeight", zero)
        for key in ["BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"] {
            host.set(key, .array([]))
        }
        host.set("CpuPeriod", number(config.cpuPeriod))
        host.set("CpuQuota", number(config.cpuQuota))
        host.set("CpuRealtimePeriod", zero)
        host.set("CpuRealtimeRuntime", zero)
        host.set("CpusetCpus", .string(config.cpusetCpus ?? ""))
        host.set("CpusetMems", .string(config.cpusetMems ?? ""))
        host.set("Devices", .array((config.devices ?? []).map { device in
            var item = JSONObject()
            item.set("PathOnHost", .string(device.pathOnHost))
            item.set("PathInContainer", .string(device.pathInContainer))
            item.set("CgroupPermissions", .string(device.permissions))
            return .object(item)
        }))
        host.set("DeviceCgroupRules", .null)
        host.set("DeviceRequests", .null)
        host.set("KernelMemory", zero)
        host.set("KernelMemoryTCP", zero)
        host.set("MemoryReservation", number(config.memoryReservation))
        host.set("MemorySwap", number(config.memorySwap))
        host.set("MemorySwappiness", number(config.memorySwappiness))
        host.set("OomKillDisable", .bool(config.oomKillDisable ?? false))
        host.set("PidsLimit", config.pidsLimit.map { .number(String($0)) } ?? .null)
        host.set("Ulimits", .array((config.ulimits ?? []).map { limit in
            var item = JSONObject()
            item.set("Name", .string(limit.name))
            item.set("Hard", number(limit.hard))
            item.set("Soft", number(limit.soft))
            return .object(item)
        }))
        host.set("CpuCount", zero)
        host.set("CpuPercent", zero)
        host.set("IOMaximumIOps", zero)
        host.set("IOMaximumBandwidth", zero)
        host.set("MaskedPaths", config.privileged ? .null : strings(ContainerInspection.maskedPaths))
        host.set("ReadonlyPaths", config.privileged ? .null : strings(ContainerInspection.readonlyPaths))
        if config.initProcess { host.set("Init", .bool(true)) }
        return host
    }

    /// The paths a container that is not privileged finds masked or read-only (the
    /// default spec's), in docker's order.
    public static let maskedPaths = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                              "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"]
    public static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// docker's binding map: "80/tcp" → [{HostIp, HostPort}] ("" for a port to be chosen).
    static func portBindings(_ ports: [PortMapping]) -> JSONObject {
        var bindings = JSONObject()
        for key in Set(ports.map { "\($0.containerPort)/\($0.proto)" }).sorted() {
            bindings.set(key, .array(ports.filter { "\($0.containerPort)/\($0.proto)" == key }.map { port in
                var binding = JSONObject()
                binding.set("HostIp", .string(port.hostIP))
                binding.set("HostPort", .string(port.hostPort == 0 ? "" : String(port.hostPort)))
                return .object(binding)
            }))
        }
        return bindings
    }

    /// NetworkSettings.Ports: every exposed port, with its host bindings or null.
    static func networkPorts(_ record: ContainerRecord, exposed: [String]) -> JSONObject {
        var ports = JSONObject()
        var keys = exposed
        for port in record.publishedPorts where !keys.contains("\(port.containerPort)/\(port.proto)") {
            keys.append("\(port.containerPort)/\(port.proto)")
        }
        for key in keys {
            let bound = record.publishedPorts.filter { "\($0.containerPort)/\($0.proto)" == key }
            ports.set(key, bound.isEmpty ? .null : .array(bound.map { port in
                var binding = JSONObject()
                binding.set("HostIp", .string(port.hostIP.isEmpty ? "0.0.0.0" : port.hostIP))
                binding.set("HostPort", .string(String(port.hostPort)))
                return .object(binding)
            }))
        }
        return ports
    }

    /// The Mounts array: volumes with their name and driver, binds with their propagation.
    public static func mounts(_ record: ContainerRecord, engine: ContainerEngine) -> [JSONValue] {
        record.config.mounts.map { mount in
            var item = JSONObject()
            item.set("Type", .string(mount.kind.rawValue))
            if mount.kind == .volume { item.set("Name", .string(mount.source)) }
            item.set("Source", .string(mount.kind == .volume ? (engine.options.root + "/volumes/" + mount.source + "/_data") : mount.source))
            item.set("Destination", .string(mount.destination))
            if mount.kind == .volume { item.set("Driver", .string("local")) }
            // docker: "z" for a named volume, "" for an anonymous one, "ro" for a read-only bind.
            item.set("Mode", .string(mount.kind == .volume ? (mount.anonymous == true ? "" : "z") : (mount.readOnly ? "ro" : "")))
            item.set("RW", .bool(!mount.readOnly))
            item.set("Propagation", .string(mount.kind == .bind ? (mount.propagation ?? "rprivate") : ""))
            return .object(item)
        }
    }
}
