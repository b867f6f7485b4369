#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CaissonJSON
import CLIFormatting
import CaissonShim
import CaissonSys
import Engine
import LayerArchive

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show containers' resource usage.", usage: "caisson stats [OPTIONS] [CONTAINER...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .customLong("no-stream"), help: "Print one sample and exit.") var noStream = false
    @Flag(name: .shortAndLong, help: "Stopped containers too.") var all = false
    @Argument var containers: [String] = []

    struct Sample {
        var cpuNanoseconds: UInt64
        var memory: UInt64
        var limit: UInt64
        var pids: UInt64
        var netIn: UInt64
        var netOut: UInt64
        var at: Int64
    }

    func sample(_ engine: ContainerEngine, _ record: ContainerRecord) -> Sample? {
        guard let output = try? engine.runtime(record, ["events", "--stats", record.id]),
              case .object(let event)? = try? JSONParser.parse(output), case .object(let data)? = event["data"] else { return nil }
        func number(_ value: JSONValue?) -> UInt64 { if case .number(let text)? = value { return UInt64(text) ?? 0 }; return 0 }
        func object(_ value: JSONValue?) -> JSONObject { if case .object(let o)? = value { return o }; return JSONObject() }
        let cpu = number(object(object(data["cpu"])["usage"])["total"])
        let memoryUsage = object(object(data["memory"])["usage"])
        var limit = number(memoryUsage["limit"])
        if limit == 0 || limit > 1 << 60 { limit = UInt64(sysconf(Int32(_SC_PHYS_PAGES))) * UInt64(sysconf(Int32(_SC_PAGESIZE))) }
        var netIn: UInt64 = 0, netOut: UInt64 = 0
        if let pid = engine.state(of: record).pid, let text = try? Files.readString("/proc/\(pid)/net/dev") {
            for line in text.split(separator: "\n") where line.contains(":") && !line.contains("lo:") {
                let fields = line.split(separator: ":")[1].split(separator: " ")
                if fields.count > 8 { netIn += UInt64(fields[0]) ?? 0; netOut += UInt64(fields[8]) ?? 0 }
            }
        }
        return Sample(cpuNanoseconds: cpu, memory: number(memoryUsage["usage"]), limit: limit,
                      pids: number(object(data["pids"])["current"]), netIn: netIn, netOut: netOut,
                      at: Clock.monotonicMilliseconds())
    }

    func run() throws {
        let engine = try global.engine()
        var records = try containers.isEmpty ? engine.list().filter { all || $0.1.isRunning }.map(\.0) : containers.map { try engine.find($0) }
        records = records.filter { engine.state(of: $0).isRunning || all }
        repeat {
            let first = records.map { sample(engine, $0) }
            Clock.sleep(milliseconds: 500)
            let second = records.map { sample(engine, $0) }
            var table = [["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "PIDS"]]
            for (index, record) in records.enumerated() {
                guard let a = first[index], let b = second[index] else {
                    table.append([String(record.id.prefix(12)), record.name, "--", "-- / --", "--", "--", "--"])
                    continue
                }
                let cpu = Double(b.cpuNanoseconds &- a.cpuNanoseconds) / Double(max(1, b.at - a.at) * 1_000_000) * 100
                let memoryPercent = b.limit > 0 ? Double(b.memory) / Double(b.limit) * 100 : 0
                table.append([String(record.id.prefix(12)), record.name, String(format2(cpu)) + "%",
                              "\(binary(b.memory)) / \(binary(b.limit))", format2(memoryPercent) + "%",
                              "\(Units.humanSize(Int64(b.netIn))) / \(Units.humanSize(Int64(b.netOut)))", String(b.pids)])
            }
            if !noStream { print("\u{1b}[2J\u{1b}[H", terminator: "") }
            printOut(Table.render(table))
            fflush(nil)
        } while !noStream
    }

    func format2(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// docker's memory units: KiB, MiB, GiB.
    func binary(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return format2(value) + units[unit]
    }
}

struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cp", abstract: "Copy files between a container and the host (CONTAINER:PATH).", usage: "caisson cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n        caisson cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument(help: "SOURCE (HOST-PATH or CONTAINER:PATH)") var source: String
    @Argument(help: "DESTINATION (HOST-PATH or CONTAINER:PATH)") var destination: String

    static func split(_ text: String) -> (container: String, path: String)? {
        guard !text.hasPrefix("/"), !text.hasPrefix("."), let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    func run() throws {
        let engine = try global.engine()
        let from = Copy.split(source)
        let to = Copy.split(destination)
        guard (from == nil) != (to == nil) else {
            throw CLIError.usage("copying between containers or between host paths is not supported: one side must be CONTAINER:PATH")
        }
        let archive = global.root + "/tmp-cp-\(getpid()).tar"
        defer { unlink(archive) }
        if let from {
            let record = try engine.find(from.container)
            let rootfs = engine.bundle(of: record.id) + "/rootfs"
            let rootFD = open(rootfs, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard rootFD >= 0 else { throw CLIError.failed("container \(record.name) has no root filesystem mounted") }
            defer { close(rootFD) }
            let relative = String(from.path.drop(while: { $0 == "/" }))
            let start = caisson_openat2(rootFD, relative.isEmpty ? "." : relative, 0, 0x10 | 0x02)
            guard start >= 0 else { throw CLIError.failed("Could not find the file \(from.path) in container \(from.container)") }
            defer { close(start) }
            let target = Paths.absolute(destination)
            let (directory, name) = Files.isDirectory(target)
                ? (target, Paths.base(from.path.isEmpty || from.path == "/" ? "rootfs" : from.path))
                : (Paths.parent(target), Paths.base(target))
            guard Files.isDirectory(directory) else { throw CLIError.failed("destination directory \(directory) does not exist") }
            try write(archive) { writer in
                var archiver = TreeArchiver()
                try archiver.archive(fd: start, name: name, into: &writer)
            }
            try apply(archive, into: directory)
        } else if let to {
            let record = try engine.find(to.container)
            let rootfs = engine.bundle(of: record.id) + "/rootfs"
            let hostPath = Paths.absolute(source)
            let start = open(hostPath, CAISSON_O_PATH | O_CLOEXEC)
            guard start >= 0 else { throw CLIError.failed("lstat \(hostPath): no such file or directory") }
            defer { close(start) }
            let rootFD = open(rootfs, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard rootFD >= 0 else { throw CLIError.failed("container \(record.name) has no root filesystem mounted") }
            defer { close(rootFD) }
            let relative = String(to.path.drop(while: { $0 == "/" }))
            let existingDirectory = caisson_openat2(rootFD, relative.isEmpty ? "." : relative, UInt64(O_DIRECTORY), 0x10 | 0x02)
            if existingDirectory >= 0 { close(existingDirectory) }
            let name = existingDirectory >= 0 ? (relative.isEmpty ? "" : relative + "/") + Paths.base(hostPath) : relative
            guard !name.isEmpty else { throw CLIError.usage("invalid destination \(destination)") }
            try write(archive) { writer in
                var archiver = TreeArchiver()
                try archiver.archive(fd: start, name: name, into: &writer)
            }
            // Applied by the layer applier at the container's root: contained like a layer.
            try apply(archive, into: rootfs)
        }
    }

    private func write(_ path: String, _ body: (inout TarWriter<FileSink>) throws -> Void) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError.failed(SysError("open", path: path).description) }
        defer { close(fd) }
        var writer = TarWriter(FileSink(fd: fd, path: path))
        try body(&writer)
        try writer.finish()
    }

    private func apply(_ archive: String, into directory: String) throws {
        let fd = open(archive, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError.failed(SysError("open", path: archive).description) }
        defer { close(fd) }
        var reader = TarReader(FileSource(fd: fd, path: archive))
        defer { reader.close() }
        _ = try LayerApplier(root: directory, mode: .apply).apply(&reader)
    }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Show the engine's events (follows until interrupted, or --until).", usage: "caisson events [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(help: "Only events since this time (RFC 3339) or duration ago (10m).") var since: String?
    @Option(help: "Stop at this time (RFC 3339) or duration ago; without it, follow.") var until: String?
    @Option(name: .shortAndLong, help: "type=, event=, container= (id or name).") var filter: [String] = []
    @Option(help: "Go template, e.g. {{json .}}") var format: String?

    func run() throws {
        let engine = try global.engine()
        let sinceEpoch = try since.map { (text) throws -> Int64 in
            guard let value = LogReader.parseSince(text) else { throw CLIError.usage("invalid --since \"\(text)\"") }
            return value
        }
        let untilEpoch = try until.map { (text) throws -> Int64 in
            guard let value = LogReader.parseSince(text) else { throw CLIError.usage("invalid --until \"\(text)\"") }
            return value
        }
        var filters: [(String, String)] = []
        for item in filter {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["type", "event", "container"].contains(parts[0]) else {
                throw CLIError.usage("invalid filter '\(item)'")
            }
            filters.append((parts[0], parts[1]))
        }
        let template = try format.map { (text) throws(CLIError) in try FormatTemplate(text) }
        var offset = 0
        while true {
            let bytes = (try? Files.readBytes(engine.events.path)) ?? []
            if bytes.count > offset {
                for line in bytes[offset...].split(separator: 0x0a) {
                    guard case .object(let event)? = try? JSONParser.parse(Array(line)) else { continue }
                    try show(event, since: sinceEpoch, until: untilEpoch, filters: filters, template: template)
                }
                offset = bytes.count
            }
            if let untilEpoch, Int64(time(nil)) >= untilEpoch { return }
            if until != nil { return }
            Clock.sleep(milliseconds: 100)
        }
    }

    func show(_ event: JSONObject, since: Int64?, until: Int64?, filters: [(String, String)], template: FormatTemplate?) throws {
        func text(_ value: JSONValue?) -> String { if case .string(let s)? = value { return s }; return "" }
        let time = text(event["time"])
        let epoch = Time.parseRFC3339(time) ?? 0
        if let since, epoch < since { return }
        if let until, epoch > until { return }
        guard case .object(let actor)? = event["Actor"] else { return }
        var attributes: [(String, String)] = []
        if case .object(let object)? = actor["Attributes"] { attributes = object.keys.map { ($0, text(object[$0])) } }
        let id = text(actor["ID"])
        for (key, value) in filters {
            switch key {
            case "type": if text(event["Type"]) != value { return }
            case "event":
                // docker: health_status, exec_create and exec_start without their ": ..."
                // match every event of the kind.
                let action = text(event["Action"])
                if action != value && !(["health_status", "exec_create", "exec_start"].contains(value) && action.hasPrefix(value + ":")) { return }
            default: if !id.hasPrefix(value) && !attributes.contains(where: { $0 == ("name", value) }) { return }
            }
        }
        if let template {
            print(try template.render([], json: event))
        } else {
            let details = attributes.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")
            print("\(time) \(text(event["Type"])) \(text(event["Action"])) \(id)" + (details.isEmpty ? "" : " (\(details))"))
        }
        fflush(nil)
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write a container's filesystem as a tar archive.", usage: "caisson export [OPTIONS] CONTAINER")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?
    @Argument var container: String

    func run() throws {
        let engine = try global.engine()
        let record = try engine.find(container)
        let rootfs = engine.bundle(of: record.id) + "/rootfs"
        let root = open(rootfs, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw CLIError.failed("container \(record.name) has no root filesystem mounted") }
        defer { close(root) }
        var fd: Int32 = 1
        var temporary: String?
        if let output {
            temporary = output + ".caisson-tmp"
            fd = open(temporary!, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw CLIError.failed(SysError("open", path: output).description) }
        } else if isTerminal(1) {
            throw CLIError.usage("cowardly refusing to save to a terminal. Use the -o flag or redirect")
        }
        do {
            var writer = TarWriter(FileSink(fd: fd, path: output ?? "<stdout>"))
            var archiver = TreeArchiver()
            try archiver.archive(fd: root, name: ".", into: &writer)
            try writer.finish()
        } catch {
            if let temporary { close(fd); unlink(temporary) }
            throw error
        }
        if let temporary, let output {
            close(fd)
            guard rename(temporary, output) == 0 else { throw CLIError.failed(SysError("rename", path: output).description) }
        }
    }
}
