import CaissonJSON
import ContainerHealth
import ImageSpec

/// `docker inspect`'s container document: one place for `caisson inspect` and the
/// Docker Engine API's `GET /containers/{id}/json`.
public enum ContainerInspection {
    public static func document(_ record: ContainerRecord, engine: ContainerEngine) -> JSONObject {
        let state = engine.state(of: record)
        let args = SpecArgs.read(engine, record.id)
        var object = JSONObject()
        object.set("Id", .string(record.id))
        object.set("Created", .string(record.created))
        object.set("Path", .string(args.first ?? ""))
        object.set("Args", .array(args.dropFirst().map { .string($0) }))
        var stateObject = JSONObject()
        stateObject.set("Status", .string(state.status.rawValue))
        stateObject.set("Running", .bool(state.isRunning))
        stateObject.set("Paused", .bool(state.status == .paused))
        stateObject.set("Restarting", .bool(state.status == .restarting))
        stateObject.set("OOMKilled", .bool(state.oomKilled))
        stateObject.set("Dead", .bool(false))
        stateObject.set("Pid", .number(String(state.pid ?? 0)))
        stateObject.set("ExitCode", .number(String(state.exitCode ?? 0)))
        stateObject.set("Error", .string(state.error ?? ""))
        stateObject.set("StartedAt", .string(state.startedAt ?? "0001-01-01T00:00:00Z"))
        stateObject.set("FinishedAt", .string(state.finishedAt ?? "0001-01-01T00:00:00Z"))
        if let health = state.health { stateObject.set("Health", health.document) }
        object.set("State", .object(stateObject))
        object.set("Image", .string(record.imageID.description))
        let directory = engine.directory(of: record.id)
        object.set("ResolvConfPath", .string(directory + "/resolv.conf"))
        object.set("HostnamePath", .string(directory + "/hostname"))
        object.set("HostsPath", .string(directory + "/hosts"))
        object.set("LogPath", .string(engine.logPath(of: record.id)))
        object.set("Name", .string("/" + record.name))
        object.set("RestartCount", .number(String(state.restartCount)))
        object.set("Driver", .string("overlay2"))
        object.set("Platform", .string("linux"))
        object.set("MountLabel", .string(""))
        object.set("ProcessLabel", .string(""))
        object.set("AppArmorProfile", .string(""))
        object.set("ExecIDs", .null)
        object.set("HostConfig", .object(hostConfig(record)))
        object.set("GraphDriver", .object(graphDriver(record, engine: engine)))
        object.set("Mounts", .array(mounts(record, engine: engine)))
        // The image's settings read once, for the merged Config and the exposed ports.
        let image = engine.imageRunConfig(record)
        let run = ContainerEngine.runConfig(record.config, over: image ?? ImageConfig.RunConfig())
        let exposed = PortPublishing.exposed(record.config, image: image?.ExposedPorts.map { Array($0.keys) } ?? [])
        object.set("Config", .object(config(record, run: run, exposed: exposed)))
        object.set("NetworkSettings", .object(networkSettings(record, exposed: exposed, engine: engine, attached: state.isRunning)))
        return object
    }

    /// `Config`, in docker's order: the container's settings over the image's.
    static func config(_ record: ContainerRecord, run: ImageConfig.RunConfig, exposed: [String]) -> JSONObject {
        var config = JSONObject()
        config.set("Hostname", .string(record.config.hostname ?? ""))
        config.set("Domainname", .string(record.config.domainname ?? ""))
        config.set("User", .string(run.User ?? ""))
        config.set("AttachStdin", .bool(false))
        config.set("AttachStdout", .bool(false))
        config.set("AttachStderr", .bool(false))
        if !exposed.isEmpty {
            var exposedObject = JSONObject()
            for port in exposed { exposedObject.set(port, .object(JSONObject())) }
            config.set("ExposedPorts", .object(exposedObject))
        }
        config.set("Tty", .bool(record.config.tty))
        config.set("OpenStdin", .bool(record.config.interactive))
        config.set("StdinOnce", .bool(record.config.stdinOnce ?? false))
        config.set("Env", (run.Env ?? []).isEmpty ? .null : .array((run.Env ?? []).map { .string($0) }))  // dockerd: null when none
        config.set("Cmd", run.Cmd.map { .array($0.map { .string($0) }) } ?? .null)
        if let check = record.config.healthcheck { config.set("Healthcheck", check.document) }
        config.set("Image", .string(record.config.image))
        var volumes = JSONObject()
        for path in (run.Volumes ?? [:]).keys.sorted() { volumes.set(path, .object(JSONObject())) }
        config.set("Volumes", volumes.keys.isEmpty ? .null : .object(volumes))
        config.set("WorkingDir", .string(run.WorkingDir ?? ""))
        config.set("Entrypoint", run.Entrypoint.map { .array($0.map { .string($0) }) } ?? .null)
        config.set("OnBuild", .null)
        var labels = JSONObject()
        for (key, value) in (run.Labels ?? [:]).sorted(by: { $0.key < $1.key }) { labels.set(key, .string(value)) }
        config.set("Labels", .object(labels))
        if let signal = run.StopSignal { config.set("StopSignal", .string(signal)) }
        if let timeout = record.config.stopTimeout { config.set("StopTimeout", .number(String(timeout))) }
        return config
    }

    /// `GraphDriver`: overlay2 and the directories of the container's overlay (lower
    /// layers top first, the writable layer, its work directory, the mounted root).
    static func graphDriver(_ record: ContainerRecord, engine: ContainerEngine) -> JSONObject {
        let upper = engine.images.upperDirectory(ofRootfs: record.id)
        let state = String(upper.dropLast("/upper".count))
        var data = JSONObject()
        data.set("LowerDir", .string(engine.lowerDirectories(record).joined(separator: ":")))
        data.set("MergedDir", .string(engine.bundle(of: record.id) + "/rootfs"))
        data.set("UpperDir", .string(upper))
        data.set("WorkDir", .string(state + "/work"))
        var driver = JSONObject()
        driver.set("Data", .object(data))
        driver.set("Name", .string("overlay2"))
        return driver
    }

    /// `NetworkSettings`, in docker's order: the sandbox, the first network's address at
    /// the top (as docker keeps for compatibility), one endpoint per network. A container
    /// that is not `attached` (not running) shows what dockerd shows once it has released
    /// its endpoints: no ports, endpoint IDs, addresses or MACs (the engine keeps them for
    /// the next start).
    static func networkSettings(_ record: ContainerRecord, exposed: [String], engine: ContainerEngine,
                                attached: Bool = true) -> JSONObject {
        var record = record
        if !attached {
            record.ipAddress = nil
            record.gateway = nil
            record.macAddress = nil
            record.connections = record.connections?.map { connection in
                var released = connection
                released.ipAddress = nil
                released.macAddress = nil
                return released
            }
        }
        var network = JSONObject()
        network.set("Bridge", .string(""))
        network.set("SandboxID", .string(record.config.network == "host" ? "" : record.id))
        network.set("HairpinMode", .bool(false))
        network.set("LinkLocalIPv6Address", .string(""))
        network.set("LinkLocalIPv6PrefixLen", .number("0"))
        network.set("Ports", .object(attached ? networkPorts(record, exposed: exposed) : JSONObject()))
        network.set("SandboxKey", .string(record.netnsPath ?? ""))
        network.set("SecondaryIPAddresses", .null)
        network.set("SecondaryIPv6Addresses", .null)
        let primary = record.config.network
        let primaryRecord = try? engine.network(named: primary)
        let primaryPrefix = prefixLength(primaryRecord, address: record.ipAddress)
        network.set("EndpointID", .string(record.ipAddress == nil ? "" : endpointID(record, network: primary)))
        network.set("Gateway", .string(record.gateway ?? ""))
        network.set("GlobalIPv6Address", .string(""))
        network.set("GlobalIPv6PrefixLen", .number("0"))
        network.set("IPAddress", .string(record.ipAddress ?? ""))
        network.set("IPPrefixLen", .number(String(primaryPrefix)))
        network.set("IPv6Gateway", .string(""))
        network.set("MacAddress", .string(record.macAddress ?? ""))
        var networks = JSONObject()
        if !primary.hasPrefix("container:") {
            let names = [record.name] + (record.config.networkAliases ?? []) + [record.config.hostname ?? String(record.id.prefix(12))]
            networks.set(primary, .object(endpoint(record, network: primary, id: primaryRecord?.id ?? primary,
                                                    aliases: record.config.networkAliases, address: record.ipAddress,
                                                    prefix: primaryPrefix, gateway: record.gateway, mac: record.macAddress,
                                                    dnsNames: primary == "host" || primary == "none" ? nil : names)))
        }
        for connection in record.connections ?? [] {
            let connected = try? engine.network(named: connection.network)
            let names = [record.name] + (connection.aliases ?? []) + [String(record.id.prefix(12))]
            networks.set(connection.network, .object(endpoint(record, network: connection.network, id: connected?.id ?? connection.network,
                                                              aliases: connection.aliases, address: connection.ipAddress,
                                                              prefix: prefixLength(connected, address: connection.ipAddress),
                                                              gateway: connected?.gateway, mac: connection.macAddress, dnsNames: names)))
        }
        network.set("Networks", .object(networks))
        return network
    }

    /// One network's endpoint as docker describes it.
    static func endpoint(_ record: ContainerRecord, network: String, id: String, aliases: [String]?, address: String?, prefix: Int,
                         gateway: String?, mac: String?, dnsNames: [String]?) -> JSONObject {
        var endpoint = JSONObject()
        endpoint.set("IPAMConfig", .null)
        endpoint.set("Links", .null)
        endpoint.set("Aliases", aliases.map { .array($0.map { .string($0) }) } ?? .null)
        endpoint.set("NetworkID", .string(id))
        endpoint.set("EndpointID", .string(address == nil ? "" : endpointID(record, network: network)))
        endpoint.set("Gateway", .string(address == nil ? "" : (gateway ?? "")))
        endpoint.set("IPAddress", .string(address ?? ""))
        endpoint.set("IPPrefixLen", .number(String(prefix)))
        endpoint.set("IPv6Gateway", .string(""))
        endpoint.set("GlobalIPv6Address", .string(""))
        endpoint.set("GlobalIPv6PrefixLen", .number("0"))
        endpoint.set("MacAddress", .string(mac ?? ""))
        endpoint.set("DriverOpts", .null)
        if let dnsNames { endpoint.set("DNSNames", .array(dnsNames.map { .string($0) })) }
        return endpoint
    }

    /// A stable 64-hex id for the container's endpoint on a network (docker's EndpointID).
    static func endpointID(_ record: ContainerRecord, network: String) -> String {
        Digest.sha256(of: Array((record.id + "/" + network).utf8)).encoded
    }

    /// The prefix length of the network's subnet (0 without an address).
    static func prefixLength(_ network: NetworkRecord?, address: String?) -> Int {
        guard address != nil, let subnet = network?.subnet, let bits = subnet.split(separator: "/").last.flatMap({ Int($0) }) else { return 0 }
        return bits
    }
}
