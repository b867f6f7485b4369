import CaissonJSON
import ContainerHealth

/// `docker inspect`'s container document: one place for `caisson inspect` and the
/// Docker Engine API's `GET /containers/{id}/json`.
public enum ContainerInspection {
    public static func document(_ record: ContainerRecord, engine: ContainerEngine) -> JSONObject {
        let state = engine.state(of: record)
        let args = (try? SpecArgs.read(engine.bundle(of: record.id) + "/config.json")) ?? []
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
        stateObject.set("OOMKilled", .bool(false))
        stateObject.set("Dead", .bool(false))
        stateObject.set("Pid", .number(String(state.pid ?? 0)))
        stateObject.set("ExitCode", .number(String(state.exitCode ?? 0)))
        stateObject.set("Error", .string(""))
        stateObject.set("StartedAt", .string(state.startedAt ?? "0001-01-01T00:00:00Z"))
        stateObject.set("FinishedAt", .string(state.finishedAt ?? "0001-01-01T00:00:00Z"))
        if let health = state.health { stateObject.set("Health", health.document) }
        object.set("State", .object(stateObject))
        object.set("Image", .string(record.imageID.description))
        object.set("Name", .string("/" + record.name))
        object.set("RestartCount", .number(String(state.restartCount)))
        object.set("Driver", .string("overlay2"))
        var host = JSONObject()
        host.set("NetworkMode", .string(record.config.network))
        var restart = JSONObject()
        let policy = record.config.restart.split(separator: ":")
        restart.set("Name", .string(String(policy.first ?? "no")))
        restart.set("MaximumRetryCount", .number(policy.count > 1 ? String(policy[1]) : "0"))
        host.set("RestartPolicy", .object(restart))
        host.set("AutoRemove", .bool(record.config.autoRemove))
        host.set("Privileged", .bool(record.config.privileged))
        host.set("ReadonlyRootfs", .bool(record.config.readOnly))
        host.set("Memory", .number(String(record.config.memory ?? 0)))
        host.set("NanoCpus", .number(String(Int64((record.config.cpus ?? 0) * 1e9))))
        host.set("PidsLimit", .number(String(record.config.pidsLimit ?? 0)))
        host.set("CapAdd", .array(record.config.capAdd.map { .string($0) }))
        host.set("CapDrop", .array(record.config.capDrop.map { .string($0) }))
        host.set("Runtime", .string(record.config.runtime))
        host.set("Init", .bool(record.config.initProcess))
        object.set("HostConfig", .object(host))
        var config = JSONObject()
        config.set("Hostname", .string(record.config.hostname ?? ""))
        config.set("User", .string(record.config.user ?? ""))
        config.set("Tty", .bool(record.config.tty))
        config.set("OpenStdin", .bool(record.config.interactive))
        config.set("StdinOnce", .bool(record.config.stdinOnce ?? false))
        config.set("Env", .array(record.config.env.map { .string($0) }))
        config.set("Cmd", record.config.command.map { .array($0.map { .string($0) }) } ?? .null)
        if let check = record.config.healthcheck { config.set("Healthcheck", check.document) }
        config.set("Entrypoint", record.config.entrypoint.map { .array($0.map { .string($0) }) } ?? .null)
        config.set("Image", .string(record.config.image))
        config.set("WorkingDir", .string(record.config.workingDir ?? ""))
        var labels = JSONObject()
        for (key, value) in record.config.labels.sorted(by: { $0.key < $1.key }) { labels.set(key, .string(value)) }
        config.set("Labels", .object(labels))
        if let signal = record.config.stopSignal { config.set("StopSignal", .string(signal)) }
        object.set("Config", .object(config))
        var network = JSONObject()
        network.set("IPAddress", .string(record.ipAddress ?? ""))
        network.set("Gateway", .string(record.gateway ?? ""))
        network.set("MacAddress", .string(record.macAddress ?? ""))
        network.set("SandboxKey", .string(record.netnsPath ?? ""))
        var ports = JSONObject()
        for port in record.publishedPorts {
            var binding = JSONObject()
            binding.set("HostIp", .string(port.hostIP.isEmpty ? "0.0.0.0" : port.hostIP))
            binding.set("HostPort", .string(String(port.hostPort)))
            ports.set("\(port.containerPort)/\(port.proto)", .array([.object(binding)]))
        }
        network.set("Ports", .object(ports))
        var networks = JSONObject()
        if record.config.network != "host" {
            var endpoint = JSONObject()
            endpoint.set("IPAddress", .string(record.ipAddress ?? ""))
            endpoint.set("Gateway", .string(record.gateway ?? ""))
            endpoint.set("MacAddress", .string(record.macAddress ?? ""))
            networks.set(record.config.network, .object(endpoint))
        }
        for connection in record.connections ?? [] {
            var endpoint = JSONObject()
            endpoint.set("IPAddress", .string(connection.ipAddress ?? ""))
            endpoint.set("MacAddress", .string(connection.macAddress ?? ""))
            networks.set(connection.network, .object(endpoint))
        }
        network.set("Networks", .object(networks))
        object.set("NetworkSettings", .object(network))
        object.set("Mounts", .array(record.config.mounts.map { mount in
            var item = JSONObject()
            item.set("Type", .string(mount.kind.rawValue))
            if mount.kind == .volume { item.set("Name", .string(mount.source)) }
            item.set("Source", .string(mount.kind == .volume ? (engine.options.root + "/volumes/" + mount.source + "/_data") : mount.source))
            item.set("Destination", .string(mount.destination))
            item.set("RW", .bool(!mount.readOnly))
            return .object(item)
        }))
        object.set("LogPath", .string(engine.logPath(of: record.id)))
        return object
    }
}
