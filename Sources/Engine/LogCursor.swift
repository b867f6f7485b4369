#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// A reader's place in a container's log, for `caisson logs` and the Docker API's logs
/// endpoint alike: first every entry of the rotated files (PATH.N ... PATH.1, when the
/// container has `max-file`) and the current one, then what is appended, following the
/// monitor's rotations (the file renamed to PATH.1, or emptied) without losing the rest of
/// the old file. The current file is read through a descriptor of its own, so what a
/// follower has not read yet stays readable when the file is renamed or the container
/// removed (`docker run --rm` with a client that reads its log afterwards). Only whole
/// lines are read; a partial one waits for its newline.
public struct LogCursor: Sendable {
    public let path: String
    let rotatedFiles: Int
    var offset = 0
    var file: LogFile?

    public init(path: String, maxFiles: Int = 1) {
        self.path = path
        rotatedFiles = max(maxFiles - 1, 0)
    }

    /// Every entry there is now, oldest first.
    public mutating func readAll() -> [LogEntry] {
        var entries: [LogEntry] = []
        for index in stride(from: rotatedFiles, through: 1, by: -1) {
            if let rotated = LogFile(path: "\(path).\(index)") { entries += rotated.lines(from: 0).entries }
        }
        file = LogFile(path: path)
        offset = 0
        return entries + readCurrent()
    }

    /// The entries written since the last read.
    public mutating func readNew() -> [LogEntry] {
        guard let current = file else {
            file = LogFile(path: path)
            offset = 0
            return readCurrent()
        }
        let now = LogFile.inode(of: path)
        if let now, now != current.inode {
            // Rotated (or made anew): the rest of ours first, then the new file.
            let rest = readCurrent()
            file = LogFile(path: path)
            offset = 0
            return rest + readCurrent()
        }
        if current.size < offset { offset = 0 }  // emptied (max-file 1)
        return readCurrent()
    }

    private mutating func readCurrent() -> [LogEntry] {
        guard let file else { return [] }
        let (entries, end) = file.lines(from: offset)
        offset = end
        return entries
    }
}

/// One log file held open: read from an offset to its last whole line.
final class LogFile: @unchecked Sendable {
    let fd: Int32
    let inode: UInt64

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0 else { close(fd); return nil }
        self.fd = fd
        inode = UInt64(info.st_ino)
    }

    deinit { close(fd) }

    var size: Int {
        var info = stat()
        return fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }

    func lines(from offset: Int) -> (entries: [LogEntry], end: Int) {
        let available = size - offset
        guard available > 0 else { return ([], offset) }
        var bytes = [UInt8](repeating: 0, count: available)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, available, off_t(offset)) }
        guard n > 0, let lastNewline = bytes[..<n].lastIndex(of: 0x0a) else { return ([], offset) }
        return (bytes[..<lastNewline].split(separator: 0x0a).compactMap { LogEntry.parse($0) }, offset + lastNewline + 1)
    }

    static func inode(of path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }
}

extension ContainerEngine {
    /// A cursor at the start of a container's log (its rotated files included).
    public func logCursor(of record: ContainerRecord) -> LogCursor {
        LogCursor(path: logPath(of: record.id), maxFiles: record.config.logRotation?.maxFiles ?? 1)
    }
}
