import CaissonJSON

/// One line of a container's log (`logPath(of:)`, docker's json-file format, written by
/// the monitor): `caisson logs` and the Docker Engine API's logs endpoint read it alike.
public struct LogEntry: Sendable, Equatable {
    public enum Stream: Sendable { case stdout, stderr }
    public var stream: Stream
    /// RFC 3339 with nanoseconds, as the monitor wrote it ("" when missing).
    public var time: String
    /// The output, with its newline when the line had one.
    public var text: String

    /// Nil for a line that is not a log entry (a torn write, say).
    public static func parse(_ line: some Collection<UInt8>) -> LogEntry? {
        guard case .object(let object)? = try? JSONParser.parse(Array(line)), case .string(let text)? = object["log"] else { return nil }
        var time = ""
        if case .string(let stamp)? = object["time"] { time = stamp }
        return LogEntry(stream: object["stream"] == .string("stderr") ? .stderr : .stdout, time: time, text: text)
    }
}
