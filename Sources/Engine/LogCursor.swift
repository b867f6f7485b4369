#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// A reader's place in a container's log, for `caisson logs` and the Docker API's logs
/// endpoint alike: first every entry of the rotated files (PATH.N ... PATH.1, when the
/// container has `max-file`) and the current one, then what is appended, following the
/// monitor's rotations (the file renamed to PATH.1, or emptied) without losing the rest of
/// the old file. Only whole lines are read; a partial one waits for its newline.
public struct LogCursor: Sendable {
    public let path: String
    let rotatedFiles: Int
    var offset = 0
    var inode: UInt64?

    public init(path: String, maxFiles: Int = 1) {
        self.path = path
        rotatedFiles = max(maxFiles - 1, 0)
    }

    /// Every entry there is now, oldest first.
    public mutating func readAll() -> [LogEntry] {
        var entries: [LogEntry] = []
        for index in stride(from: rotatedFiles, through: 1, by: -1) {
            entries += LogCursor.lines(of: "\(path).\(index)", from: 0).entries
        }
        offset = 0
        inode = LogCursor.inode(of: path)
        let current = LogCursor.lines(of: path, from: 0)
        offset = current.end
        return entries + current.entries
    }

    /// The entries written since the last read.
    public mutating func readNew() -> [LogEntry] {
        var entries: [LogEntry] = []
        let now = LogCursor.inode(of: path)
        if let inode, let now, inode != now {
            // Rotated: the rest of the file we were reading is PATH.1 now.
            if rotatedFiles > 0, LogCursor.inode(of: path + ".1") == inode {
                entries += LogCursor.lines(of: path + ".1", from: offset).entries
            }
            offset = 0
        } else if LogCursor.size(of: path) < offset {
            offset = 0  // emptied (max-file 1)
        }
        inode = now ?? inode
        let fresh = LogCursor.lines(of: path, from: offset)
        offset = fresh.end
        return entries + fresh.entries
    }

    static func lines(of path: String, from offset: Int) -> (entries: [LogEntry], end: Int) {
        guard let bytes = try? Files.readBytes(path), bytes.count > offset else { return ([], offset) }
        let fresh = bytes[offset...]
        guard let lastNewline = fresh.lastIndex(of: 0x0a) else { return ([], offset) }
        return (fresh[..<lastNewline].split(separator: 0x0a).compactMap { LogEntry.parse($0) }, lastNewline + 1)
    }

    static func inode(of path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    static func size(of path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}

extension ContainerEngine {
    /// A cursor at the start of a container's log (its rotated files included).
    public func logCursor(of record: ContainerRecord) -> LogCursor {
        LogCursor(path: logPath(of: record.id), maxFiles: record.config.logRotation?.maxFiles ?? 1)
    }
}
