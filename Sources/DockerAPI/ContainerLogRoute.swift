import CaissonSys
import Engine
import NIOHTTP1

/// `GET /containers/{id}/logs`: the container's log file (the monitor's json-file) in
/// docker's stream format — each entry behind an 8-byte header (stream, 0, 0, 0, length)
/// without a TTY, the bare bytes with one; with `follow`, new entries until it stops.
extension DockerAPI {
    func addContainerLogRoute(_ router: inout Router) {
        router.add(.GET, "/containers/{id}/logs") { [self] request in
            let id = request.parameters["id"] ?? ""
            guard let since = LogWindow.apiSeconds(request.string("since")) else {
                throw DockerAPIError.badParameter("invalid value for since: \"\(request.string("since") ?? "")\"")
            }
            guard let until = LogWindow.apiSeconds(request.string("until")) else {
                throw DockerAPIError.badParameter("invalid value for until: \"\(request.string("until") ?? "")\"")
            }
            let options = LogOptions(stdout: request.bool("stdout"), stderr: request.bool("stderr"),
                                     timestamps: request.bool("timestamps"), details: request.bool("details"),
                                     tail: LogOptions.tail(request.string("tail")), window: LogWindow(since: since, until: until))
            guard options.stdout || options.stderr else {
                throw DockerAPIError.badParameter("you must choose at least one stream")
            }
            let record = try await blocking { try self.engine.find(id) }
            let (existing, start) = try await blocking { () -> ([LogEntry], LogCursor) in
                var cursor = self.engine.logCursor(of: record)
                return (cursor.readAll(), cursor)
            }
            var lines = existing
            if let tail = options.tail { lines = Array(lines.suffix(tail)) }
            let first = options.frame(lines, tty: record.config.tty)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: record.config.tty ? "application/vnd.docker.raw-stream"
                                                                      : "application/vnd.docker.multiplexed-stream")
            guard request.bool("follow") else { return APIResponse(status: .ok, headers: headers, body: .bytes(first)) }
            return APIResponse(status: .ok, headers: headers, body: .stream { [self] stream in
                try await stream.send(first)
                var cursor = start
                while true {
                    let running = try await blocking { self.engine.state(of: record).isRunning }
                        && !options.window.hasEnded(now: Clock.epochSeconds())
                    let before = cursor
                    let (next, after) = try await blocking { () -> ([LogEntry], LogCursor) in
                        var moved = before
                        return (moved.readNew(), moved)
                    }
                    cursor = after
                    try await stream.send(options.frame(next, tty: record.config.tty))
                    if !running { return }
                    try await Task.sleep(nanoseconds: 100_000_000)
                }
            })
        }
    }
}

/// Which log entries a request wants, and how they are written.
struct LogOptions: Sendable {
    var stdout: Bool
    var stderr: Bool
    var timestamps: Bool
    /// docker's `--details`: each line after the log's extra attributes and a space (there
    /// are none here).
    var details = false
    var tail: Int?
    var window = LogWindow()

    /// A count of lines; anything else (all, a negative or not a number) means all, as dockerd reads it.
    static func tail(_ text: String?) -> Int? {
        guard let text, let count = Int(text), count >= 0 else { return nil }
        return count
    }

    func frame(_ entries: [LogEntry], tty: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries where (entry.stream == .stdout ? stdout : stderr) && window.contains(entry) {
            let payload = Array(((timestamps ? entry.time + " " : "") + (details ? " " : "") + entry.text).utf8)
            if !tty {
                let length = UInt32(payload.count)
                bytes += [entry.stream == .stdout ? 1 : 2, 0, 0, 0,
                          UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
            }
            bytes += payload
        }
        return bytes
    }
}
