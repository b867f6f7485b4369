import CaissonJSON
import CaissonSys

/// A container's processes as `ps` on the host shows them (`docker top`, `caisson top`):
/// the header's titles and the rows of the container's processes, the last column (the
/// command) keeping its spaces.
public struct ProcessTable: Sendable, Equatable {
    public var titles: [String]
    public var processes: [[String]]
}

extension ContainerEngine {
    /// Runs the host's `ps` with `arguments` (docker's default `-ef`) and keeps the rows
    /// whose PID column names a process of the container (from the runtime's `ps`). As
    /// dockerd does, `ps` is asked for those processes by `-q PID,...` (so arguments
    /// without `-e`, such as `-o pid,args`, still list processes of any user), and run
    /// again without it when the arguments cannot be combined with `-q`.
    public func top(_ id: String, psArguments: String = "-ef") throws(EngineError) -> ProcessTable {
        let record = try find(id)
        guard state(of: record).isRunning else { throw .notRunning(record.name) }
        let listing = try runtime(record, ["ps", "--format", "json", record.id])
        guard case .array(let items)? = try? JSONParser.parse(listing) else {
            throw .runtime("the runtime's ps gave no list of processes")
        }
        let pids = Set(items.compactMap { item -> Int? in if case .number(let text) = item { return Int(text) }; return nil })
        guard let ps = ["/usr/bin/ps", "/bin/ps"].first(where: { Files.exists($0) }) else {
            throw .invalid("ps is not installed on this host (procps)")
        }
        let arguments = psArguments.split(separator: " ").map(String.init)
        var result: (status: Int32, output: [UInt8], error: [UInt8])
        let selected = pids.sorted().map(String.init).joined(separator: ",")
        do {
            result = try Spawn.capture([ps] + arguments + (selected.isEmpty ? [] : ["-q", selected]))
            if result.status != 0 { result = try Spawn.capture([ps] + arguments) }
        } catch {
            throw .system(error)
        }
        guard result.status == 0 else {
            throw .invalid("ps \(psArguments): \(String(decoding: result.error, as: UTF8.self).split(separator: "\n").first ?? "exit status \(result.status)")")
        }
        return try ContainerEngine.parsePS(String(decoding: result.output, as: UTF8.self), pids: pids)
    }

    static func parsePS(_ output: String, pids: Set<Int>) throws(EngineError) -> ProcessTable {
        let lines = output.split(separator: "\n")
        guard let header = lines.first else { throw .invalid("ps printed nothing") }
        let titles = header.split(separator: " ").map(String.init)
        guard let pidColumn = titles.firstIndex(of: "PID") else { throw .invalid("Couldn't find PID field in ps output") }
        var processes: [[String]] = []
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > pidColumn, let pid = Int(fields[pidColumn]), pids.contains(pid) else { continue }
            let last = titles.count - 1
            processes.append(fields.count > titles.count ? Array(fields[..<last]) + [fields[last...].joined(separator: " ")] : fields)
        }
        return ProcessTable(titles: titles, processes: processes)
    }
}
