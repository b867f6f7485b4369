#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import CLIFormatting
import Engine
import NIOHTTP1

/// `GET /events?since=&until=&filters=`: the engine's event log (`ROOT/events.log`, which
/// the CLI, the engine and the monitors append to) as docker's event stream, one JSON
/// message a line. Without `since` only events from now on; with it, the recorded ones
/// from then first. The log is followed until `until` has passed (the stream then ends)
/// or, without `until`, until the client goes.
extension DockerAPI {
    func addEventsRoute(_ router: inout Router) {
        router.add(.GET, "/events") { [self] request in
            let now = DockerAPI.nowNanoseconds()
            let since = try request.string("since").flatMap { $0.isEmpty ? nil : $0 }.map { (text) throws(DockerAPIError) in
                try EventTime.nanoseconds(text, now: now, name: "since")
            }
            let until = try request.string("until").flatMap { $0.isEmpty ? nil : $0 }.map { (text) throws(DockerAPIError) in
                try EventTime.nanoseconds(text, now: now, name: "until")
            }
            let filter = try EventFilter(request.string("filters"))
            let path = engine.events.path
            let start: Int64 = since == nil ? EventLogFollower.size(path) : 0
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            return APIResponse(status: .ok, headers: headers, body: .stream { [self] output in
                // Until `until` has passed, or until the client closes its connection.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await output.clientClosed() }
                    group.addTask { [self] in
                        try await follow(path: path, from: start, since: since, until: until, filter: filter, to: output)
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            })
        }
    }

    /// Sends the log's messages that match, from `offset`, polling for new ones.
    func follow(path: String, from offset: Int64, since: Int64?, until: Int64?, filter: EventFilter,
                to output: ResponseStream) async throws {
        var follower = EventLogFollower(path: path, offset: offset)
        while true {
            let reading = follower
            let (lines, next) = try await blocking { () -> ([[UInt8]], EventLogFollower) in
                var moved = reading
                return (moved.readLines(), moved)
            }
            follower = next
            var bytes: [UInt8] = []
            for line in lines {
                guard let message = DockerEventMessage(line) else { continue }
                if let since, message.timeNano < since { continue }
                if let until, message.timeNano > until { continue }
                guard filter.includes(message) else { continue }
                bytes += JSONEncoding.serialize(.object(message.document())) + [0x0a]
            }
            try await output.send(bytes)
            if let until, DockerAPI.nowNanoseconds() > until { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    static func nowNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// The times `/events` accepts: Unix seconds with an optional fraction (what the docker
/// CLI sends), RFC 3339, or a duration before now; as nanoseconds.
enum EventTime {
    static func nanoseconds(_ text: String, now: Int64, name: String) throws(DockerAPIError) -> Int64 {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(\.isNumber) }), let seconds = Int64(parts[0]) {
            let fraction = parts.count == 2 ? String(parts[1].prefix(9)) : ""
            let padded = fraction + String(repeating: "0", count: 9 - fraction.count)
            return seconds * 1_000_000_000 + (Int64(padded) ?? 0)
        }
        if let epoch = Time.parseRFC3339(text) { return epoch * 1_000_000_000 + fractionNanoseconds(text) }
        if let epoch = TimeExpression.epoch(text, now: now / 1_000_000_000) { return epoch * 1_000_000_000 }
        throw .badParameter("invalid value for \(name): \"\(text)\"")
    }

    /// The fraction of an RFC 3339 time as nanoseconds.
    static func fractionNanoseconds(_ text: String) -> Int64 {
        let bytes = Array(text.utf8)
        guard bytes.count > 20, bytes[19] == UInt8(ascii: ".") else { return 0 }
        let digits = bytes[20...].prefix { $0 >= 0x30 && $0 <= 0x39 }.prefix(9)
        let padded = String(decoding: digits, as: UTF8.self) + String(repeating: "0", count: 9 - digits.count)
        return Int64(padded) ?? 0
    }
}

/// Reads whole new lines of the event log from an offset (a truncated log starts over).
struct EventLogFollower: Sendable {
    let path: String
    var offset: Int64

    static func size(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    mutating func readLines() -> [[UInt8]] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return [] }
        let size = Int64(info.st_size)
        if size < offset { offset = 0 }
        guard size > offset else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(size - offset))
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n > 0 else { return [] }
        guard let lastNewline = bytes[..<n].lastIndex(of: 0x0a) else { return [] }
        offset += Int64(lastNewline + 1)
        return bytes[..<lastNewline].split(separator: 0x0a).map(Array.init)
    }
}

/// One recorded event as docker's `events.Message`.
struct DockerEventMessage: Sendable {
    var type: String
    var action: String
    var actorID: String
    var attributes: [String: String]
    var timeNano: Int64

    init?(_ line: [UInt8]) {
        guard case .object(let event)? = try? JSONParser.parse(line),
              case .string(let type)? = event["Type"], case .string(let action)? = event["Action"],
              case .object(let actor)? = event["Actor"], case .string(let id)? = actor["ID"],
              case .string(let time)? = event["time"], let seconds = Time.parseRFC3339(time) else { return nil }
        self.type = type
        self.action = action
        actorID = id
        var attributes: [String: String] = [:]
        if case .object(let object)? = actor["Attributes"] {
            for key in object.keys { if case .string(let value)? = object[key] { attributes[key] = value } }
        }
        self.attributes = attributes
        timeNano = seconds * 1_000_000_000 + EventTime.fractionNanoseconds(time)
    }

    func document() -> JSONObject {
        var object = JSONObject()
        // The legacy fields docker still fills for containers (and images).
        if type == "container" || type == "image" {
            object.set("status", .string(action))
            object.set("id", .string(actorID))
            if type == "container" { object.set("from", .string(attributes["image"] ?? "")) }
        }
        object.set("Type", .string(type))
        object.set("Action", .string(action))
        var actor = JSONObject()
        actor.set("ID", .string(actorID))
        actor.set("Attributes", .map(attributes))
        object.set("Actor", .object(actor))
        object.set("scope", .string("local"))
        object.set("time", .int(timeNano / 1_000_000_000))
        object.set("timeNano", .int(timeNano))
        return object
    }
}

/// docker's event filters (`type`, `event`, `container`, `image`, `network`, `volume`,
/// `label`) with its matching rules: values of one key are alternatives, keys must all
/// match; names match by exact name or id prefix. Other keys are refused by name.
struct EventFilter: Sendable {
    var values: [String: [String]] = [:]
    static let keys: Set<String> = ["type", "event", "container", "image", "network", "volume", "label"]

    init(_ text: String?) throws(DockerAPIError) {
        guard let text, !text.isEmpty else { return }
        guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else {
            throw .badParameter("invalid filters: \(text)")
        }
        for key in object.keys {
            guard EventFilter.keys.contains(key) else { throw .badParameter("invalid filter '\(key)'") }
            switch object[key] {
            case .array(let items)?: values[key] = items.compactMap { if case .string(let s) = $0 { return s }; return nil }
            case .object(let map)?: values[key] = map.keys
            default: throw .badParameter("invalid filter '\(key)'")
            }
        }
    }

    /// docker's ExactMatch: true without the key.
    func exact(_ key: String, _ value: String) -> Bool {
        guard let wanted = values[key], !wanted.isEmpty else { return true }
        return wanted.contains(value)
    }

    /// docker's FuzzyMatch: the value or a prefix of it.
    func fuzzy(_ key: String, _ value: String) -> Bool {
        guard let wanted = values[key], !wanted.isEmpty else { return true }
        return wanted.contains { value == $0 || value.hasPrefix($0) }
    }

    func includes(_ message: DockerEventMessage) -> Bool {
        let name = message.attributes["name"] ?? ""
        func byName(_ key: String) -> Bool { fuzzy(key, message.actorID) || fuzzy(key, name) }
        let event: Bool
        if let wanted = values["event"], wanted.contains(where: { ["health_status", "exec_create", "exec_start"].contains($0) }) {
            event = fuzzy("event", message.action)
        } else {
            event = exact("event", message.action)
        }
        let imageName = message.attributes[message.type == "image" ? "name" : "image"] ?? ""
        func stripTag(_ text: String) -> String {
            guard let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") else { return text }
            return String(text[..<colon])
        }
        let image = exact("image", message.actorID) || exact("image", imageName)
            || exact("image", stripTag(message.actorID)) || exact("image", stripTag(imageName))
        let labels = (values["label"] ?? []).allSatisfy { label in
            let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
            guard let value = message.attributes[parts[0]] else { return false }
            return parts.count == 1 || value == parts[1]
        }
        return event && exact("type", message.type) && byName("container") && byName("network") && byName("volume")
            && image && labels
    }
}
