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
/// gather. The file can be reopened (after the kubelet rotated it away), and rotated here
/// as docker's json-file driver does with `max-size`/`max-file`: a line that would take
/// the file past `maxSize` first moves it to PATH.1 (PATH.1 to PATH.2, ..., keeping
/// `maxFiles` files in all), or with one file empties it.
final class ContainerLog {
    enum Format: String {
        case jsonFile = "json-file"
        case cri
    }

    let path: String
    let format: Format
    /// Bytes a file may hold (0: no rotation), and the files kept, the current one included.
    let maxSize: Int
    let maxFiles: Int
    private var fd: Int32
    private var size = 0
    private var partial: [String: [UInt8]] = [:]

    init(path: String, format: Format, maxSize: Int = 0, maxFiles: Int = 1) throws(SysError) {
        self.path = path
        self.format = format
        self.maxSize = maxSize
        self.maxFiles = max(maxFiles, 1)
        fd = try ContainerLog.open(path)
        size = ContainerLog.size(of: fd)
    }

    private static func size(of fd: Int32) -> Int {
        var info = stat()
        return fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Makes room for `count` more bytes: rotates when they would go past `maxSize`.
    private func rotate(before count: Int) {
        guard maxSize > 0, size > 0, size + count > maxSize else { return }
        if maxFiles == 1 {
            _ = ftruncate(fd, 0)
        } else {
            for index in stride(from: maxFiles - 2, through: 1, by: -1) {
                rename("\(path).\(index)", "\(path).\(index + 1)")
            }
            rename(path, path + ".1")
            if let fresh = try? ContainerLog.open(path) {
                close(fd)
                fd = fresh
            }
        }
        size = 0
    }

    private func append(_ bytes: [UInt8]) {
        rotate(before: bytes.count)
        try? Files.writeAll(fd: fd, bytes: bytes)
        size += bytes.count
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
        size = ContainerLog.size(of: fd)
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
            append(JSONEncoding.serialize(.object(object)) + [0x0a])
        case .cri:
            var text = line
            if text.last == 0x0a { text.removeLast() }
            let header = Array("\(Clock.rfc3339Now()) \(stream) \(complete ? "F" : "P") ".utf8)
            append(header + text + [0x0a])
        }
    }
}
