#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys

/// The container's log, in one of two formats:
/// - `json-file` (docker's): one JSON object per line,
///   `{"log":"text\n","stream":"stdout","time":"RFC 3339 with nanoseconds"}`;
/// - `cri` (the kubelet's): `TIMESTAMP STREAM P|F TEXT` per line, `F` for a full line and
///   `P` for a part of a longer one, the newline itself not written into TEXT.
/// Output is cut at newlines; a partial line is held until its newline comes or 16 KiB
/// gather. The file can be reopened (after the kubelet rotated it away).
final class ContainerLog {
    enum Format: String {
        case jsonFile = "json-file"
        case cri
    }

    let path: String
    let format: Format
    private var fd: Int32
    private var partial: [String: [UInt8]] = [:]

    init(path: String, format: Format) throws(SysError) {
        self.path = path
        self.format = format
        fd = try ContainerLog.open(path)
    }

    deinit { close(fd) }

    private static func open(_ path: String) throws(SysError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        if fd < 0 { throw SysError("open", path: path) }
        return fd
    }

    /// Closes the file and opens its path anew (creating it), as the kubelet's
    /// ReopenContainerLog asks after it moved the old file away.
    func reopen() throws(SysError) {
        let fresh = try ContainerLog.open(path)
        close(fd)
        fd = fresh
    }

    func write(_ bytes: [UInt8], stream: String) {
        var pending = (partial[stream] ?? []) + bytes
        while let newline = pending.firstIndex(of: 0x0a) {
            emit(Array(pending[...newline]), stream: stream, complete: true)
            pending.removeSubrange(...newline)
        }
        if pending.count >= 16384 {
            emit(pending, stream: stream, complete: false)
            pending = []
        }
        partial[stream] = pending
    }

    /// Writes what is held (at exit).
    func flush() {
        for (stream, pending) in partial where !pending.isEmpty { emit(pending, stream: stream, complete: true) }
        partial = [:]
    }

    private func emit(_ line: [UInt8], stream: String, complete: Bool) {
        switch format {
        case .jsonFile:
            var object = JSONObject()
            object.set("log", .string(String(decoding: line, as: UTF8.self)))
            object.set("stream", .string(stream))
            object.set("time", .string(Clock.rfc3339Now()))
            try? Files.writeAll(fd: fd, bytes: JSONEncoding.serialize(.object(object)) + [0x0a])
        case .cri:
            var text = line
            if text.last == 0x0a { text.removeLast() }
            let header = Array("\(Clock.rfc3339Now()) \(stream) \(complete ? "F" : "P") ".utf8)
            try? Files.writeAll(fd: fd, bytes: header + text + [0x0a])
        }
    }
}
