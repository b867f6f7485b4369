import CaissonJSON

/// A container's health as docker keeps it (`State.Health`): the status, the failures in
/// a row and the last five probes. The container's monitor updates it by docker's rules
/// and writes it to `health.json` in the container's directory; the engine reads that
/// file for inspect, ps and filters. A module of its own, Foundation-free, so the static
/// monitor and the engine share one reading of the file and the rules are unit-tested.
public struct HealthState: Sendable, Equatable {
    /// docker's `maxLogEntries`.
    public static let maxLogEntries = 5

    public var status: HealthStatus
    public var failingStreak: Int
    /// Oldest first.
    public var log: [HealthProbeResult]

    public init(status: HealthStatus = .starting, failingStreak: Int = 0, log: [HealthProbeResult] = []) {
        self.status = status
        self.failingStreak = failingStreak
        self.log = log
    }

    /// A (re)start: starting again with no failures; the log is kept, as docker keeps it.
    public mutating func restart() {
        status = .starting
        failingStreak = 0
    }

    /// docker's `handleProbeResult`: the result joins the log; exit 0 makes the container
    /// healthy and clears the streak; a failure adds to the streak, except while it is
    /// still starting within its start period, and `retries` failures in a row make it
    /// unhealthy. Returns the new status if it changed (for the `health_status` event).
    public mutating func record(_ result: HealthProbeResult, retries: Int, withinStartPeriod: Bool) -> HealthStatus? {
        let before = status
        log.append(result)
        if log.count > Self.maxLogEntries { log.removeFirst(log.count - Self.maxLogEntries) }
        if result.exitCode == 0 {
            failingStreak = 0
            status = .healthy
        } else if !(status == .starting && withinStartPeriod) {
            failingStreak += 1
            if failingStreak >= max(retries, 1) { status = .unhealthy }
        }
        return status == before ? nil : status
    }

    /// The probes have stopped (the container ended or was paused): docker then reports
    /// unhealthy "for compatibility reasons", without an event.
    public mutating func stop() {
        status = .unhealthy
    }

    /// `{"Status":...,"FailingStreak":...,"Log":[{"Start","End","ExitCode","Output"}]}`.
    public var document: JSONValue {
        var object = JSONObject()
        object.set("Status", .string(status.rawValue))
        object.set("FailingStreak", .number(String(failingStreak)))
        object.set("Log", .array(log.map(\.document)))
        return .object(object)
    }

    /// The file's bytes: the document, one line.
    public var encoded: [UInt8] { JSONEncoding.serialize(document) + [0x0a] }

    /// Reads the document back; nil when it is not one (a missing or damaged file is
    /// no health state at all).
    public init?(document: JSONValue) {
        guard case .object(let object) = document, case .string(let text)? = object["Status"],
              let status = HealthStatus(rawValue: text) else { return nil }
        self.status = status
        if case .number(let streak)? = object["FailingStreak"] { failingStreak = Int(streak) ?? 0 } else { failingStreak = 0 }
        if case .array(let entries)? = object["Log"] { log = entries.compactMap(HealthProbeResult.init(document:)) } else { log = [] }
    }

    /// `init(document:)` over a file's bytes.
    public init?(bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes) else { return nil }
        self.init(document: value)
    }
}

/// docker's health statuses; `none` (no health check) is what a container without a
/// state has, for `--filter health=none`.
public enum HealthStatus: String, Sendable, CaseIterable {
    case starting, healthy, unhealthy

    /// The words `ps` puts after "Up 3 seconds": "(health: starting)", "(healthy)".
    public var label: String { self == .starting ? "health: starting" : rawValue }

    /// The values `--filter health=` accepts, in docker's order.
    public static let filterValues = ["none", "starting", "healthy", "unhealthy"]
}

/// One probe as docker logs it: times in RFC 3339, the exit code (-1 when it timed out
/// or could not run) and its output (at most 4096 bytes, see `ProbeOutput`).
public struct HealthProbeResult: Sendable, Equatable {
    public var start: String
    public var end: String
    public var exitCode: Int
    public var output: String

    public init(start: String, end: String, exitCode: Int, output: String) {
        self.start = start
        self.end = end
        self.exitCode = exitCode
        self.output = output
    }

    public var document: JSONValue {
        var object = JSONObject()
        object.set("Start", .string(start))
        object.set("End", .string(end))
        object.set("ExitCode", .number(String(exitCode)))
        object.set("Output", .string(output))
        return .object(object)
    }

    init?(document: JSONValue) {
        guard case .object(let object) = document, case .string(let start)? = object["Start"],
              case .string(let end)? = object["End"], case .number(let code)? = object["ExitCode"],
              let exitCode = Int(code), case .string(let output)? = object["Output"] else { return nil }
        self.init(start: start, end: end, exitCode: exitCode, output: output)
    }
}
