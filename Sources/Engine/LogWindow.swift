import CaissonSys
import CLIFormatting

/// The time window of `logs --since/--until`: entries written at or after `since` and
/// before `until` (seconds since the epoch, with their fraction, as the entries' RFC 3339
/// nanosecond stamps compare). Shared by `caisson logs` and the API's log route.
public struct LogWindow: Sendable {
    public var since: Double?
    public var until: Double?

    public init(since: Double? = nil, until: Double? = nil) {
        self.since = since
        self.until = until
    }

    public func contains(_ entry: LogEntry) -> Bool {
        guard since != nil || until != nil else { return true }
        guard let seconds = LogWindow.seconds(entry.time) else { return true }
        if let since, seconds < since { return false }
        if let until, seconds >= until { return false }
        return true
    }

    /// Whether a follower should stop: `until` has passed.
    public func hasEnded(now: Double) -> Bool { until.map { now >= $0 } ?? false }

    /// The API's form (`since=1700000000.5`, what the docker CLI sends for "2s", "10m" or
    /// a date): nil for absent, "" or 0; throws nothing, the caller names a bad value.
    public static func apiSeconds(_ text: String?) -> Double?? {
        guard let text, !text.isEmpty else { return .some(nil) }
        guard let value = Double(text), value >= 0 else { return nil }
        return .some(value == 0 ? nil : value)
    }

    /// An entry's stamp ("2026-12-03T09:30:00.123456789Z") as seconds with the fraction.
    static func seconds(_ stamp: String) -> Double? {
        guard let whole = Time.parseRFC3339(stamp) else { return nil }
        guard let dot = stamp.firstIndex(of: ".") else { return Double(whole) }
        let digits = stamp[stamp.index(after: dot)...].prefix { $0.isNumber }
        return Double(whole) + (Double("0." + digits) ?? 0)
    }
}
