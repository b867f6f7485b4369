import ContainerHealth
import ImageSpec

/// docker's `ps` filters, for `caisson ps --filter` and the API's `GET /containers/json`
/// alike: every named filter must match, any of its values may (`label` values must all
/// match). As dockerd takes them:
/// - `name` and `id` are regular expressions found anywhere in `/NAME` (or `NAME`) and the full id;
/// - `status` (created, restarting, running, removing, paused, exited, dead) shows stopped
///   containers without `--all`; `exited=CODE` matches containers that ran and exited so;
/// - `ancestor` an image by name or id (the container's image); `before` and `since` a
///   container by name or id (created before or after it); `volume` a volume name or a
///   mount destination; `network` a network name or id; `publish` and `expose` a
///   container port, `PORT[/PROTO]` or `FROM-TO[/PROTO]` (published, or exposed or published);
///   `health` a health status; `label` KEY or KEY=VALUE; `is-task` (no swarm: never true).
public struct ContainerListFilter: Sendable {
    public static let keys: Set<String> = ["ancestor", "before", "expose", "exited", "health", "id", "is-task", "label", "name",
                                           "network", "publish", "since", "status", "volume"]
    static let statuses: Set<String> = ["created", "restarting", "running", "removing", "paused", "exited", "dead"]

    private var values: [String: [String]] = [:]
    private var ancestorIDs: [Digest] = []
    private var createdBefore: String?
    private var createdSince: String?
    private var networkNames: [String: String] = [:]
    private var exitCodes: [Int32] = []

    public var isEmpty: Bool { values.isEmpty }
    /// A status filter lists stopped containers without `--all`, as docker's does.
    public var showsStopped: Bool { values["status"] != nil }

    /// Checks every filter and resolves what names other objects (images, containers,
    /// networks) once, against `containers` and the engine's stores.
    public init(_ values: [String: [String]], engine: ContainerEngine,
                containers: [(ContainerRecord, ContainerState)]) throws(EngineError) {
        for (key, items) in values {
            guard ContainerListFilter.keys.contains(key) else { throw .invalid("invalid filter '\(key)'") }
            for item in items {
                switch key {
                case "status":
                    guard ContainerListFilter.statuses.contains(item) else { throw .invalid("invalid filter 'status=\(item)'") }
                case "health":
                    guard HealthStatus.filterValues.contains(item) else {
                        throw .invalid("invalid filter 'health=\(item)': invalid value for health (\(item)): must be one of \(HealthStatus.filterValues.joined(separator: ", "))")
                    }
                case "exited":
                    guard let code = Int32(item) else { throw .invalid("invalid filter 'exited=\(item)'") }
                    exitCodes.append(code)
                case "is-task":
                    guard ["true", "false", "1", "0"].contains(item.lowercased()) else { throw .invalid("invalid filter 'is-task=\(item)'") }
                case "publish", "expose":
                    guard PortFilter(item) != nil else { throw .invalid("invalid filter '\(key)=\(item)'") }
                case "ancestor":
                    if let image = try? engine.images.resolve(item) { ancestorIDs.append(image.id) }
                case "before", "since":
                    guard let found = containers.first(where: { $0.0.name == item || $0.0.id.hasPrefix(item) })?.0 else {
                        throw .noSuchContainer(item)
                    }
                    if key == "before" { createdBefore = found.created } else { createdSince = found.created }
                default:
                    break
                }
            }
        }
        if values["network"] != nil {
            for network in (try? engine.store.networks()) ?? [] { networkNames[network.id] = network.name }
        }
        self.values = values
    }

    public func matches(_ record: ContainerRecord, _ state: ContainerState) -> Bool {
        for (key, wanted) in values where !wanted.isEmpty {
            if !matches(key, wanted, record, state) { return false }
        }
        return true
    }

    private func matches(_ key: String, _ wanted: [String], _ record: ContainerRecord, _ state: ContainerState) -> Bool {
        switch key {
        case "status": return wanted.contains(state.status.rawValue)
        // dockerd tries `/NAME` and `NAME`, so `^web$` finds web.
        case "name": return wanted.contains { ContainerListFilter.found($0, in: "/" + record.name) || ContainerListFilter.found($0, in: record.name) }
        case "id": return wanted.contains { ContainerListFilter.found($0, in: record.id) }
        case "health": return wanted.contains(state.health?.status.rawValue ?? "none")
        case "label":
            return wanted.allSatisfy { item in
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard let value = record.config.labels[parts[0]] else { return false }
                return parts.count == 1 || value == parts[1]
            }
        case "exited":
            guard !state.isRunning, state.startedAt != nil, let code = state.exitCode else { return false }
            return exitCodes.contains(code)
        case "is-task": return wanted.allSatisfy { ["false", "0"].contains($0.lowercased()) }
        case "ancestor":
            return ancestorIDs.contains(record.imageID) || wanted.contains(record.config.image)
        case "before": return createdBefore.map { record.created < $0 } ?? true
        case "since": return createdSince.map { record.created > $0 } ?? true
        case "volume":
            return wanted.contains { item in
                record.config.mounts.contains { ($0.kind == .volume && $0.source == item) || $0.destination == item }
            }
        case "network":
            let names = [record.config.network] + (record.connections ?? []).map(\.network)
            return wanted.contains { item in
                names.contains(item) || networkNames.contains { $0.key.hasPrefix(item) && names.contains($0.value) }
            }
        case "publish":
            return wanted.contains { item in
                guard let filter = PortFilter(item) else { return false }
                return record.publishedPorts.contains { filter.matches(port: $0.containerPort, proto: $0.proto) }
            }
        case "expose":
            return wanted.contains { item in
                guard let filter = PortFilter(item) else { return false }
                let exposed = (record.config.exposedPorts ?? []).compactMap(PortFilter.parsePort)
                return exposed.contains { filter.matches(port: $0.port, proto: $0.proto) }
                    || record.publishedPorts.contains { filter.matches(port: $0.containerPort, proto: $0.proto) }
            }
        default: return true
        }
    }

    /// Go's `regexp.MatchString`: the pattern found anywhere; a pattern that does not
    /// compile matches nothing.
    static func found(_ pattern: String, in text: String) -> Bool {
        guard let expression = try? Regex(pattern) else { return false }
        return text.contains(expression)
    }
}

/// `PORT[/PROTO]` or `FROM-TO[/PROTO]` (tcp unless said).
struct PortFilter {
    let range: ClosedRange<Int>
    let proto: String

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first else { return nil }
        proto = parts.count == 2 ? parts[1].lowercased() : "tcp"
        let bounds = first.split(separator: "-", maxSplits: 1).map { Int($0) }
        guard let low = bounds.first ?? nil, let high = bounds.count == 2 ? bounds[1] : low, low <= high else { return nil }
        range = low...high
    }

    func matches(port: Int, proto other: String) -> Bool { range.contains(port) && proto == other.lowercased() }

    /// "80/tcp" (an image's or create's exposed port) as its number and protocol.
    static func parsePort(_ text: String) -> (port: Int, proto: String)? {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let port = parts.first.flatMap({ Int($0) }) else { return nil }
        return (port, parts.count == 2 ? parts[1].lowercased() : "tcp")
    }
}
