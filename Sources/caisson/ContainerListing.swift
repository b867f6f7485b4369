#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CaissonJSON
import CLIFormatting
import CaissonSys
import Engine
import ImageSpec
import Images

/// How docker shows a container's status: "Up 5 seconds", "Exited (0) 3 minutes ago", ...
enum StatusText {
    static func describe(_ state: ContainerState) -> String {
        func since(_ time: String?) -> String {
            guard let time, let epoch = Time.parseRFC3339(time) else { return "" }
            return Units.humanDuration(seconds: max(0, Int64(Glibc.time(nil)) - epoch))
        }
        switch state.status {
        case .created: return "Created"
        case .running: return "Up \(since(state.startedAt))"
        case .paused: return "Up \(since(state.startedAt)) (Paused)"
        case .restarting: return "Restarting (\(state.exitCode ?? 0)) \(since(state.finishedAt)) ago"
        case .exited: return "Exited (\(state.exitCode ?? 0)) \(since(state.finishedAt)) ago"
        case .dead: return "Dead"
        }
    }

    static func ports(_ record: ContainerRecord) -> String {
        record.publishedPorts.map { "\($0.hostIP.isEmpty ? "0.0.0.0" : $0.hostIP):\($0.hostPort)->\($0.containerPort)/\($0.proto)" }
            .joined(separator: ", ")
    }

    static func command(_ record: ContainerRecord, engine: ContainerEngine) -> String {
        let args = (try? SpecArgs.read(engine.bundle(of: record.id) + "/config.json")) ?? []
        return args.joined(separator: " ")
    }
}

/// The process args of a bundle's config.json.
enum SpecArgs {
    static func read(_ path: String) throws -> [String] {
        guard case .object(let spec) = try JSONParser.parse(try Files.readBytes(path)),
              case .object(let process)? = spec["process"], case .array(let args)? = process["args"] else { return [] }
        return args.compactMap { if case .string(let text) = $0 { return text }; return nil }
    }
}

struct PS: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers.", usage: "caisson ps [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "All containers (default: running ones).") var all = false
    @Flag(name: .shortAndLong, help: "Only ids.") var quiet = false
    @Flag(name: .customLong("no-trunc")) var noTrunc = false
    @Option(name: .shortAndLong, help: "name=, id=, status=, label=KEY[=VALUE], ancestor=, network=") var filter: [String] = []
    @Option(help: "Go template: {{.ID}} {{.Image}} {{.Command}} {{.CreatedAt}} {{.RunningFor}} {{.Status}} {{.State}} {{.Ports}} {{.Names}} {{.Labels}} {{.Networks}}")
    var format: String?
    @Flag(name: .shortAndLong, help: "Only the latest created container.") var latest = false

    func run() throws {
        let engine = try global.engine()
        var rows = try engine.list()
        rows = try rows.filter { record, state in
            if !all && filter.isEmpty && !latest && !state.isRunning { return false }
            for item in filter {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw CLIError.usage("bad format of filter (expected name=value): \(item)") }
                switch parts[0] {
                case "name": if !record.name.contains(parts[1]) { return false }
                case "id": if !record.id.hasPrefix(parts[1]) { return false }
                case "status": if state.status.rawValue != parts[1] { return false }
                case "ancestor": if record.config.image != parts[1] && !record.imageID.encoded.hasPrefix(parts[1]) { return false }
                case "network": if record.config.network != parts[1] { return false }
                case "label":
                    let label = parts[1].split(separator: "=", maxSplits: 1).map(String.init)
                    guard let value = record.config.labels[label[0]] else { return false }
                    if label.count == 2, value != label[1] { return false }
                default: throw CLIError.usage("invalid filter '\(parts[0])'")
                }
            }
            return true
        }
        if latest { rows = Array(rows.prefix(1)) }
        if quiet {
            for (record, _) in rows { print(noTrunc ? record.id : String(record.id.prefix(12))) }
            return
        }
        func fields(_ record: ContainerRecord, _ state: ContainerState) -> [(String, String)] {
            var command = StatusText.command(record, engine: engine)
            if !noTrunc, command.count > 20 { command = String(command.prefix(19)) + "…" }
            return [("ID", noTrunc ? record.id : String(record.id.prefix(12))), ("Image", record.config.image),
                    ("Command", "\"\(command)\""), ("CreatedAt", record.created), ("RunningFor", Units.since(record.created)),
                    ("Ports", StatusText.ports(record)), ("Status", StatusText.describe(state)), ("State", state.status.rawValue),
                    ("Names", record.name), ("Labels", record.config.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")),
                    ("Networks", ([record.config.network] + (record.connections ?? []).map(\.network)).joined(separator: ",")), ("Mounts", record.config.mounts.map(\.destination).joined(separator: ","))]
        }
        if let format {
            let template = try FormatTemplate(format)
            var lines: [String] = []
            if template.isTable {
                lines.append(template.header(["ID": "CONTAINER ID", "RunningFor": "CREATED", "CreatedAt": "CREATED AT"]))
            }
            for (record, state) in rows {
                let row = fields(record, state)
                var json = JSONObject()
                for (key, value) in row { json.set(key, .string(value)) }
                lines.append(try template.render(row, json: json))
            }
            printOut(template.isTable ? TabAlign.align(lines) : lines.map { $0 + "\n" }.joined())
            return
        }
        var table = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]]
        for (record, state) in rows {
            let row = Dictionary(uniqueKeysWithValues: fields(record, state))
            table.append([row["ID"]!, row["Image"]!, row["Command"]!, row["RunningFor"]!, row["Status"]!, row["Ports"]!, row["Names"]!])
        }
        printOut(Table.render(table))
    }
}

/// `docker inspect`'s container document.
enum ContainerInspection {
    static func document(_ record: ContainerRecord, engine: ContainerEngine) -> JSONObject {
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
        config.set("Env", .array(record.config.env.map { .string($0) }))
        config.set("Cmd", record.config.command.map { .array($0.map { .string($0) }) } ?? .null)
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

struct Port: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "port", abstract: "List a container's published ports.", usage: "caisson port CONTAINER [PRIVATE_PORT[/PROTO]]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var container: String
    @Argument var port: String?
    func run() throws {
        let engine = try global.engine()
        let record = try engine.find(container)
        var ports = record.publishedPorts
        if let port {
            let parts = port.split(separator: "/")
            ports = ports.filter { String($0.containerPort) == parts[0] && (parts.count == 1 || $0.proto == parts[1]) }
            if ports.isEmpty { throw CLIError.failed("No public port '\(port)' published for \(container)") }
            for mapping in ports { print("\(mapping.hostIP.isEmpty ? "0.0.0.0" : mapping.hostIP):\(mapping.hostPort)") }
            return
        }
        for mapping in ports {
            print("\(mapping.containerPort)/\(mapping.proto) -> \(mapping.hostIP.isEmpty ? "0.0.0.0" : mapping.hostIP):\(mapping.hostPort)")
        }
    }
}

struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Show a container's processes.", usage: "caisson top CONTAINER")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var container: String
    func run() throws {
        let engine = try global.engine()
        let record = try engine.find(container)
        guard engine.state(of: record).isRunning else { throw EngineError.notRunning(record.name) }
        let output = try engine.runtime(record, ["ps", record.id])
        printOut(String(decoding: output, as: UTF8.self))
    }
}
