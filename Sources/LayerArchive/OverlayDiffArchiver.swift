#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// Turns an overlay upper directory (what a build step or a container changed on top of
/// its image) into an OCI layer: files as they are, overlayfs's whiteouts (0:0 character
/// devices) as `.wh.NAME` entries, opaque directories (`trusted.overlay.opaque` or
/// `user.overlay.opaque` set to "y") followed by a `.wh..wh..opq` entry, and every other
/// extended attribute except overlayfs's own. Names are archived in sorted order and, with
/// a fixed `timestamp`, every entry carries it as its modification time, so the same
/// changes always give the same bytes (and so the same layer digest). The walk uses
/// directory descriptors and never follows a symlink.
public struct OverlayDiffArchiver {
    /// When set, the modification time of every entry (`--timestamp`, reproducible layers).
    public var timestamp: Int64?
    private var seen: [String: String] = [:]  // "dev:ino" -> first path, for hard links
    /// Entries written so far; zero means the upper directory held no change.
    public private(set) var entries = 0
    /// Paths left out with all below them (relative, no leading slash: `etc/hosts`).
    public var excluded: Set<String>

    public init(timestamp: Int64? = nil, excluded: Set<String> = []) {
        self.timestamp = timestamp
        self.excluded = excluded
    }

    static let whiteoutPrefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"
    static let opaqueAttributes = ["trusted.overlay.opaque", "user.overlay.opaque"]

    /// Archives the contents of `upperDirectory` (not the directory itself) into `writer`.
    public mutating func archive<S: ByteSink>(upperDirectory: String, into writer: inout TarWriter<S>) throws(ArchiveError) {
        let root = open(upperDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if root < 0 { throw .system(SysError("open", path: upperDirectory)) }
        defer { close(root) }
        try archiveChildren(of: root, path: "", into: &writer)
    }

    private mutating func archiveChildren<S: ByteSink>(of directory: Int32, path: String,
                                                       into writer: inout TarWriter<S>) throws(ArchiveError) {
        for name in try TreeArchiver.names(directory, path: path.isEmpty ? "." : path) {
            if !excluded.isEmpty, excluded.contains(path + name) { continue }
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw .system(SysError("stat", path: path + name))
            }
            try archiveEntry(parent: directory, name: name, info: info, path: path + name, into: &writer)
        }
    }

    private mutating func archiveEntry<S: ByteSink>(parent: Int32, name: String, info: stat, path: String,
                                                    into writer: inout TarWriter<S>) throws(ArchiveError) {
        let type = info.st_mode & S_IFMT
        if type == S_IFCHR && info.st_rdev == 0 {
            // overlayfs's whiteout: the lower layers' NAME is deleted.
            let directory = String(decoding: path.utf8.dropLast(name.utf8.count), as: UTF8.self)  // "" or "dir/"
            try write(TarEntry(path: directory + OverlayDiffArchiver.whiteoutPrefix + name, kind: .file, mode: 0,
                               modificationTime: mtime(info)), into: &writer)
            return
        }
        var entry = TarEntry(path: path, kind: .file, mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid,
                             gid: info.st_gid, modificationTime: mtime(info))
        let procPath = "/proc/self/fd/\(parent)/\(name)"
        entry.xattrs = try OverlayDiffArchiver.attributes(of: procPath, path: path)
        switch type {
        case S_IFDIR:
            entry.kind = .directory
            let opaque = entry.xattrs.contains { OverlayDiffArchiver.opaqueAttributes.contains($0.0) && $0.1 == Array("y".utf8) }
            entry.xattrs.removeAll { OverlayDiffArchiver.isOverlayAttribute($0.0) }
            try write(entry, into: &writer)
            if opaque {
                try write(TarEntry(path: path + "/" + OverlayDiffArchiver.opaqueMarker, kind: .file, mode: 0,
                                   modificationTime: mtime(info)), into: &writer)
            }
            let child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child < 0 { throw .system(SysError("open", path: path)) }
            defer { close(child) }
            try archiveChildren(of: child, path: path + "/", into: &writer)
        case S_IFLNK:
            entry.kind = .symbolicLink
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlinkat(parent, name, &buffer, Int(PATH_MAX))
            if count < 0 { throw .system(SysError("readlink", path: path)) }
            entry.linkTarget = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            entry.xattrs.removeAll { OverlayDiffArchiver.isOverlayAttribute($0.0) }
            try write(entry, into: &writer)
        case S_IFREG:
            entry.xattrs.removeAll { OverlayDiffArchiver.isOverlayAttribute($0.0) }
            let key = "\(info.st_dev):\(info.st_ino)"
            if info.st_nlink > 1, let first = seen[key] {
                entry.kind = .hardLink
                entry.linkTarget = first
                entry.xattrs = []
                try write(entry, into: &writer)
                return
            }
            if info.st_nlink > 1 { seen[key] = path }
            let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw .system(SysError("open", path: path)) }
            defer { close(fd) }
            entry.size = Int64(info.st_size)
            try write(entry, into: &writer)
            try TreeArchiver.copyContent(of: fd, size: entry.size, path: path, into: &writer)
        case S_IFCHR, S_IFBLK:
            entry.kind = type == S_IFCHR ? .characterDevice : .blockDevice
            entry.deviceMajor = UInt32((info.st_rdev >> 8) & 0xfff) | UInt32((info.st_rdev >> 32) & ~0xfff)
            entry.deviceMinor = UInt32(info.st_rdev & 0xff) | UInt32((info.st_rdev >> 12) & ~0xff)
            entry.xattrs.removeAll { OverlayDiffArchiver.isOverlayAttribute($0.0) }
            try write(entry, into: &writer)
        case S_IFIFO:
            entry.kind = .fifo
            entry.xattrs.removeAll { OverlayDiffArchiver.isOverlayAttribute($0.0) }
            try write(entry, into: &writer)
        default:
            break  // sockets are not content
        }
    }

    private mutating func write<S: ByteSink>(_ entry: TarEntry, into writer: inout TarWriter<S>) throws(ArchiveError) {
        try writer.writeHeader(entry)
        entries += 1
    }

    private func mtime(_ info: stat) -> Int64 { timestamp ?? Int64(info.st_mtim.tv_sec) }

    /// overlayfs's bookkeeping (trusted.overlay.*, user.overlay.*) is not content.
    static func isOverlayAttribute(_ name: String) -> Bool {
        name.hasPrefix("trusted.overlay.") || name.hasPrefix("user.overlay.")
    }

    /// The extended attributes of `procPath` (never following a final symlink), sorted.
    static func attributes(of procPath: String, path: String) throws(ArchiveError) -> [(String, [UInt8])] {
        var names = [CChar](repeating: 0, count: 4096)
        let length = llistxattr(procPath, &names, names.count)
        if length < 0 {
            if errno == ENOTSUP || errno == EOPNOTSUPP { return [] }
            throw .system(SysError("list extended attributes", path: path))
        }
        var result: [(String, [UInt8])] = []
        for raw in names[0..<length].split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var value = [UInt8](repeating: 0, count: 65536)
            let size = lgetxattr(procPath, name, &value, value.count)
            if size < 0 { continue }  // removed meanwhile, or not readable
            result.append((name, Array(value[0..<size])))
        }
        return result.sorted { $0.0 < $1.0 }
    }
}
