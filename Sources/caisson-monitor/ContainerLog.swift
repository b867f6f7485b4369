#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys

/// The container's log in docker's json-file format: one JSON object per line,
/// `{"log":"text\n","stream":"stdout","time":"RFC 3339 with nanoseconds"}`. Output is cut
/// at newlines; a partial line is held until its newline comes or 16 KiB gather.
final class ContainerLog {
    private let fd: Int32
    private var partial: [String: [UInt8]] = [:]

    init(path: String) throws(SysError) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        if fd < 0 { throw SysError("open", path: path) }
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8], stream: String) {
        var pending = (partial[stream] ?? []) + bytes
        while let newline = pending.firstIndex(of: 0x0a) {
            emit(Array(pending[...newline]), stream: stream)
            pending.removeSubrange(...newline)
        }
        if pending.count >= 16384 {
            emit(pending, stream: stream)
            pending = []
        }
        partial[stream] = pending
    }

    /// Writes what is held (at exit).
    func flush() {
        for (stream, pending) in partial where !pending.isEmpty { emit(pending, stream: stream) }
        partial = [:]
    }

    private func emit(_ line: [UInt8], stream: String) {
        var object = JSONObject()
        object.set("log", .string(String(decoding: line, as: UTF8.self)))
        object.set("stream", .string(stream))
        object.set("time", .string(Clock.rfc3339Now()))
        try? Files.writeAll(fd: fd, bytes: JSONEncoding.serialize(.object(object)) + [0x0a])
    }
}
