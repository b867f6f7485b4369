#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CaissonJSON
import CLIFormatting
import CaissonSys
import ContainerHealth
import Engine
import ImageSpec
import Images

struct PS: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers.", usage: "caisson ps [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "All containers (default: running ones).") var all = false
    @Flag(name: .shortAndLong, help: "Only ids.") var quiet = false
    @Flag(name: .customLong("no-trunc")) var noTrunc = false
    @Option(name: .shortAndLong, help: "docker's filters: name=, id=, status=, label=KEY[=VALUE], ancestor=, before=, since=, exited=, volume=, network=, publish=, expose=, health=, is-task=") var filter: [String] = []
    @Option(help: "Go template: {{.ID}} {{.Image}} {{.Command}} {{.CreatedAt}} {{.RunningFor}} {{.Status}} {{.State}} {{.Ports}} {{.Names}} {{.Labels}} {{.Networks}}")
    var format: String?
    @Flag(name: .shortAndLong, help: "Only the latest created container.") var latest = false

    func run() throws {
        let engine = try global.engine()
        var rows = try engine.list()
        let values = try FilterFlags.values(filter)
        let listFilter: ContainerListFilter
        do { listFilter = try ContainerListFilter(values, engine: engine, containers: rows) } catch {
            throw CLIError.usage(error.description)
        }
        rows = rows.filter { record, state in
            if !all && !latest && !listFilter.showsStopped && !state.isRunning { return false }
            return listFilter.matches(record, state)
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
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Show a container's processes.", usage: "caisson top CONTAINER [ps OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var container: String
    @Argument(parsing: .captureForPassthrough, help: "ps options (default -ef)") var psOptions: [String] = []
    func run() throws {
        let engine = try global.engine()
        let table = try engine.top(container, psArguments: psOptions.isEmpty ? "-ef" : psOptions.joined(separator: " "))
        printOut(Table.render([table.titles] + table.processes))
    }
}
