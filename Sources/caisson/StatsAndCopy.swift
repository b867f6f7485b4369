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

    /// The engine's reading (shared with the Docker API's stats route).
    func sample(_ engine: ContainerEngine, _ record: ContainerRecord) -> ContainerStatsSample? {
        engine.statsSample(of: record)
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
                let cpu = Double(b.cgroup.cpu.usage.total &- a.cgroup.cpu.usage.total)
                    / Double(max(1, b.monotonicMilliseconds - a.monotonicMilliseconds) * 1_000_000) * 100
                let memory = b.cgroup.memory.usage.usage ?? 0
                let memoryPercent = b.memoryLimit > 0 ? Double(memory) / Double(b.memoryLimit) * 100 : 0
                let network = b.networkTotals
                table.append([String(record.id.prefix(12)), record.name, String(format2(cpu)) + "%",
                              "\(binary(memory)) / \(binary(b.memoryLimit))", format2(memoryPercent) + "%",
                              "\(Units.humanSize(Int64(network.received))) / \(Units.humanSize(Int64(network.sent)))",
                              String(b.cgroup.pids.current ?? 0)])
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
            let target = Paths.absolute(destination)
            let (directory, name) = Files.isDirectory(target)
                ? (target, Paths.base(from.path.isEmpty || from.path == "/" ? "rootfs" : from.path))
                : (Paths.parent(target), Paths.base(target))
            guard Files.isDirectory(directory) else { throw CLIError.failed("destination directory \(directory) does not exist") }
            // The engine writes the path under its own base name; renamed while applied here.
            let fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CLIError.failed(SysError("open", path: archive).description) }
            do { try engine.archivePath(record, from.path.isEmpty ? "/" : from.path, to: fd) } catch {
                close(fd)
                throw CLIError.failed(error.description)
            }
            close(fd)
            try apply(archive, into: directory, renaming: ContainerEngine.archiveEntryName(from.path.isEmpty ? "/" : from.path), to: name)
        } else if let to {
            let record = try engine.find(to.container)
            let hostPath = Paths.absolute(source)
            let start = open(hostPath, CAISSON_O_PATH | O_CLOEXEC)
            guard start >= 0 else { throw CLIError.failed("lstat \(hostPath): no such file or directory") }
            defer { close(start) }
            // Into an existing directory under the source's name, else as the named path.
            let containerPath = to.path.isEmpty ? "/" : to.path
            let isDirectory = (try? engine.statPath(record, containerPath).isDirectory) ?? false
            let (directory, name) = isDirectory ? (containerPath, Paths.base(hostPath)) : (Paths.parent(containerPath), Paths.base(containerPath))
            guard !name.isEmpty, name != "/" else { throw CLIError.usage("invalid destination \(destination)") }
            try write(archive) { writer in
                var archiver = TreeArchiver()
                try archiver.archive(fd: start, name: name, into: &writer)
            }
            // Extracted by the engine inside the container's root: contained like a layer.
            do { try engine.extractArchive(record, archive: archive, into: directory, noOverwriteDirNonDir: false) } catch {
                throw CLIError.failed(error.description)
            }
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

    /// Applies the archive in `directory`, its top entry `from` (and what is under it) renamed `to`.
    private func apply(_ archive: String, into directory: String, renaming from: String, to: String) throws {
        let fd = open(archive, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError.failed(SysError("open", path: archive).description) }
        defer { close(fd) }
        var reader = TarReader(FileSource(fd: fd, path: archive))
        defer { reader.close() }
        let renamed = archive + ".renamed"
        defer { unlink(renamed) }
        try write(renamed) { writer in
            while let entry = try reader.next() {
                var entry = entry
                if entry.path == from { entry.path = to }
                else if entry.path.hasPrefix(from + "/") { entry.path = to + entry.path.dropFirst(from.count) }
                if entry.kind == .hardLink, entry.linkTarget == from || entry.linkTarget.hasPrefix(from + "/") {
                    entry.linkTarget = to + entry.linkTarget.dropFirst(from.count)
                }
                try writer.writeHeader(entry)
                guard entry.kind == .file else { continue }
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let n = try buffer.withUnsafeMutableBytes { (raw) throws(ArchiveError) -> Int in try reader.readContent(into: raw) }
                    if n == 0 { break }
                    try writer.writeContent(Array(buffer[0..<n]))
                }
            }
        }
        let renamedFD = open(renamed, O_RDONLY | O_CLOEXEC)
        guard renamedFD >= 0 else { throw CLIError.failed(SysError("open", path: renamed).description) }
        defer { close(renamedFD) }
        var renamedReader = TarReader(FileSource(fd: renamedFD, path: renamed))
        defer { renamedReader.close() }
        _ = try LayerApplier(root: directory, mode: .apply).apply(&renamedReader)
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
            // The engine's export, shared with the Docker API's.
            try engine.archivePath(record, "/", to: fd, export: true)
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
