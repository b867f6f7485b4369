#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import CLIFormatting
import ContainerHealth

/// How docker shows a container's status: "Up 5 seconds", "Up 5 seconds (healthy)",
/// "Exited (0) 3 minutes ago", ...
/// (`caisson ps` and the Docker Engine API's container list share it).
public enum StatusText {
    public static func describe(_ state: ContainerState) -> String {
        func since(_ time: String?) -> String {
            guard let time, let epoch = Time.parseRFC3339(time) else { return "" }
            return Units.humanDuration(seconds: max(0, Int64(Glibc.time(nil)) - epoch))
        }
        switch state.status {
        case .created: return "Created"
        case .running: return "Up \(since(state.startedAt))" + (state.health.map { " (\($0.status.label))" } ?? "")
        case .paused: return "Up \(since(state.startedAt)) (Paused)"
        case .restarting: return "Restarting (\(state.exitCode ?? 0)) \(since(state.finishedAt)) ago"
        case .exited: return "Exited (\(state.exitCode ?? 0)) \(since(state.finishedAt)) ago"
        case .dead: return "Dead"
        }
    }

    public static func ports(_ record: ContainerRecord) -> String {
        record.publishedPorts.map { "\($0.hostIP.isEmpty ? "0.0.0.0" : $0.hostIP):\($0.hostPort)->\($0.containerPort)/\($0.proto)" }
            .joined(separator: ", ")
    }

    /// docker's `Command` of a listed container: the path, then the arguments, each that
    /// holds a space in single quotes (`sh -c 'echo hi'`).
    public static func command(_ record: ContainerRecord, engine: ContainerEngine) -> String {
        let args = SpecArgs.read(engine, record.id)
        guard let path = args.first else { return "" }
        return ([path] + args.dropFirst().map { $0.contains(" ") ? "'\($0)'" : $0 }).joined(separator: " ")
    }
}

/// The process args of a container's config.json (the command `ps` and `inspect` show),
/// also kept apart in `process-args.json` beside it when the config is written: a list
/// of 100 containers would otherwise parse 100 configs, seccomp profiles and all.
/// `--init`'s wrapper is left out, as dockerd shows the container's own command.
public enum SpecArgs {
    static let fileName = "process-args.json"
    static let initPrefix = ["/sbin/caisson-init", "init", "--"]

    public static func read(_ engine: ContainerEngine, _ id: String) -> [String] {
        let args = readWhole(engine, id)
        return args.starts(with: initPrefix) ? Array(args.dropFirst(initPrefix.count)) : args
    }

    private static func readWhole(_ engine: ContainerEngine, _ id: String) -> [String] {
        if let bytes = try? Files.readBytes(engine.directory(of: id) + "/" + fileName), let args = strings(bytes) {
            return args
        }
        guard let bytes = try? Files.readBytes(engine.bundle(of: id) + "/config.json"),
              case .object(let spec)? = try? JSONParser.parse(bytes),
              case .object(let process)? = spec["process"], let args = process["args"] else { return [] }
        return strings(args) ?? []
    }

    static func write(_ args: [String], _ engine: ContainerEngine, _ id: String) {
        try? Files.write(engine.directory(of: id) + "/" + fileName, bytes: JSONEncoding.serialize(.array(args.map { .string($0) })),
                         mode: 0o600)
    }

    private static func strings(_ bytes: [UInt8]) -> [String]? {
        guard let value = try? JSONParser.parse(bytes) else { return nil }
        return strings(value)
    }

    private static func strings(_ value: JSONValue) -> [String]? {
        guard case .array(let items) = value else { return nil }
        return items.compactMap { if case .string(let text) = $0 { return text }; return nil }
    }
}
