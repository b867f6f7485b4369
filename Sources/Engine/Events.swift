#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import EventLogFormat

/// The engine's event log (`ROOT/events.log`, one JSON object per line, appended with
/// O_APPEND so concurrent writers do not interleave lines): what `caisson events` shows.
/// The CLI and the engine record the container events (with docker's attributes: name,
/// image, the labels), network create/destroy/connect/disconnect (the network as actor,
/// the container an attribute), volume create/destroy and image pull/tag/untag/delete
/// (`ImageEvents`); the monitor records `die` (with exitCode) when a container exits.
/// Lines are written by `EventLogLine`, the monitor's writer too.
public struct EventLog: Sendable {
    public let path: String

    public init(root: String) { path = root + "/events.log" }

    public func record(type: String, action: String, id: String, attributes: [String: String] = [:]) {
        EventLogLine.append(to: path, type: type, action: action, id: id, attributes: attributes.map { ($0.key, $0.value) })
    }
}

extension EventLog {
    /// The exit status in the last `die` event of a container, from the end of the log:
    /// what a waiter reports for a container removed (`--rm`) before it saw the exit.
    public func lastExitCode(of id: String, searching window: Int = 1 << 20) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let size = Int(info.st_size)
        let start = max(0, size - window)
        var bytes = [UInt8](repeating: 0, count: size - start)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard n > 0 else { return nil }
        let marker = Array("\"Action\":\"die\",\"Actor\":{\"ID\":\"\(id)\"".utf8)
        for line in bytes[..<n].split(separator: 0x0a).reversed() {
            guard line.count > marker.count, line.firstRange(of: marker) != nil else { continue }
            guard case .object(let event)? = try? JSONParser.parse(Array(line)),
                  case .object(let actor)? = event["Actor"], case .object(let attributes)? = actor["Attributes"],
                  case .string(let code)? = attributes["exitCode"] else { return nil }
            return Int32(code)
        }
        return nil
    }
}

extension ContainerEngine {
    public var events: EventLog { EventLog(root: options.root) }

    func event(_ action: String, _ record: ContainerRecord, _ extra: [String: String] = [:]) {
        events.record(type: "container", action: action, id: record.id,
                      attributes: ["name": record.name, "image": record.config.image].merging(record.config.labels) { a, _ in a }.merging(extra) { $1 })
    }

    /// A container event a front end records (the API's exec events), with the
    /// container's name, image and labels as the engine's own carry them.
    public func recordContainerEvent(_ action: String, _ record: ContainerRecord, _ extra: [String: String] = [:]) {
        event(action, record, extra)
    }

    /// docker's network events: the network is the actor; the container an attribute.
    func networkEvent(_ action: String, _ network: NetworkRecord, container: String) {
        networkEvent(action, EventNetwork(id: network.id, name: network.name, type: network.driver), container: container)
    }

    func networkEvent(_ action: String, _ network: EventNetwork, container: String) {
        events.record(type: "network", action: action, id: network.id,
                      attributes: ["container": container, "name": network.name, "type": network.type])
    }

    /// Writes the container's networks where its monitor reads them; they are returned too.
    @discardableResult
    func writeEventNetworks(_ record: ContainerRecord) -> [EventNetwork] {
        let networks = eventNetworks(record)
        // Replaced whole (rename): the monitor may read it at the container's exit at any time.
        try? Files.writeAtomically(directory(of: record.id) + "/" + ContainerEngine.eventNetworksFile,
                                   bytes: Array(networks.map(\.line).joined().utf8), mode: 0o644)
        return networks
    }

    /// The file the monitor reads the container's current networks from (the networks
    /// connected or disconnected while it runs included).
    static let eventNetworksFile = "event-networks"

    /// The networks a container joins when it starts, as docker's network events name
    /// them (id, name, driver type): its network (`none` and `host` too, whose driver
    /// types are `null` and `host`) and those it was connected to; none when it shares
    /// another container's.
    func eventNetworks(_ record: ContainerRecord) -> [EventNetwork] {
        var result: [EventNetwork] = []
        for name in [record.config.network] + (record.connections ?? []).map(\.network) where !name.hasPrefix("container:") {
            if name == "none" || name == "host" {
                result.append(EventNetwork(id: name, name: name, type: name == "none" ? "null" : "host"))
            } else if let network = try? network(named: name) {
                result.append(EventNetwork(id: network.id, name: network.name, type: network.driver))
            }
        }
        return result
    }
}

/// A network as a container's start and exit events name it; the monitor reads them
/// (`ID,NAME,TYPE` lines of `event-networks` in the container's directory) to record
/// `disconnect` when the container ends and `connect` when its policy restarts it.
struct EventNetwork: Sendable {
    var id: String
    var name: String
    var type: String

    var line: String { "\(id),\(name),\(type)\n" }
}
