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

    public static func command(_ record: ContainerRecord, engine: ContainerEngine) -> String {
        let args = (try? SpecArgs.read(engine.bundle(of: record.id) + "/config.json")) ?? []
        return args.joined(separator: " ")
    }
}

/// The process args of a bundle's config.json (the command `ps` and `inspect` show).
public enum SpecArgs {
    public static func read(_ path: String) throws -> [String] {
        guard case .object(let spec) = try JSONParser.parse(try Files.readBytes(path)),
              case .object(let process)? = spec["process"], case .array(let args)? = process["args"] else { return [] }
        return args.compactMap { if case .string(let text) = $0 { return text }; return nil }
    }
}
