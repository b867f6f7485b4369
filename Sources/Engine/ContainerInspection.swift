import CaissonJSON
import ContainerHealth

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
        stateObject.set("OOMKilled", .bool(false))
        stateObject.set("Dead", .bool(false))
        stateObject.set("Pid", .number(String(state.pid ?? 0)))
        stateObject.set("ExitCode", .number(String(state.exitCode ?? 0)))
        stateObject.set("Error", .string(state.error ?? ""))
        stateObject.set("StartedAt", .string(state.startedAt ?? "0001-01-01T00:00:00Z"))
        stateObject.set("FinishedAt", .string(state.finishedAt ?? "0001-01-01T00:00:00Z"))
        if let health = state.health { stateObject.set("Health", health.document) }
        object.set("State", .object(stateObject))
        object.set("Image", .string(record.imageID.description))
        object.set("Name", .string("/" + record.name))
        object.set("RestartCount", .number(String(state.restartCount)))
        object.set("Driver", .string("overlay2"))
        object.set("HostConfig", .object(hostConfig(record)))
        let run = engine.runConfig(of: record)
        var config = JSONObject()
        config.set("Hostname", .string(record.config.hostname ?? ""))
        config.set("User", .string(run.User ?? ""))
        config.set("Tty", .bool(record.config.tty))
        config.set("OpenStdin", .bool(record.config.interactive))
        config.set("StdinOnce", .bool(record.config.stdinOnce ?? false))
        config.set("Env", .array((run.Env ?? []).map { .string($0) }))
        config.set("Cmd", run.Cmd.map { .array($0.map { .string($0) }) } ?? .null)
        if let check = record.config.healthcheck { config.set("Healthcheck", check.document) }
        config.set("Entrypoint", run.Entrypoint.map { .array($0.map { .string($0) }) } ?? .null)
        config.set("Image", .string(record.config.image))
        config.set("WorkingDir", .string(run.WorkingDir ?? ""))
        var labels = JSONObject()
        for (key, value) in (run.Labels ?? [:]).sorted(by: { $0.key < $1.key }) { labels.set(key, .string(value)) }
        config.set("Labels", .object(labels))
        if let signal = run.StopSignal { config.set("StopSignal", .string(signal)) }
        let exposed = PortPublishing.exposed(record.config, image: engine.exposedPortsOfImage(record))
        var exposedObject = JSONObject()
        for port in exposed { exposedObject.set(port, .object(JSONObject())) }
        config.set("ExposedPorts", exposed.isEmpty ? .null : .object(exposedObject))
        var volumes = JSONObject()
        for path in (run.Volumes ?? [:]).keys.sorted() { volumes.set(path, .object(JSONObject())) }
        config.set("Volumes", volumes.keys.isEmpty ? .null : .object(volumes))
        object.set("Config", .object(config))
        var network = JSONObject()
        network.set("IPAddress", .string(record.ipAddress ?? ""))
        network.set("Gateway", .string(record.gateway ?? ""))
        network.set("MacAddress", .string(record.macAddress ?? ""))
        network.set("SandboxKey", .string(record.netnsPath ?? ""))
        network.set("Ports", .object(networkPorts(record, exposed: exposed)))
        var networks = JSONObject()
        if record.config.network != "host" {
            var endpoint = JSONObject()
            endpoint.set("IPAddress", .string(record.ipAddress ?? ""))
            endpoint.set("Gateway", .string(record.gateway ?? ""))
            endpoint.set("MacAddress", .string(record.macAddress ?? ""))
            endpoint.set("Aliases", record.config.networkAliases.map { .array($0.map { .string($0) }) } ?? .null)
            let names = [record.name] + (record.config.networkAliases ?? []) + [record.config.hostname ?? String(record.id.prefix(12))]
            endpoint.set("DNSNames", .array(names.map { .string($0) }))
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
        object.set("Mounts", .array(mounts(record, engine: engine)))
        object.set("LogPath", .string(engine.logPath(of: record.id)))
        return object
    }
}
