#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// Writes a directory tree (or one file) into a tar stream, walking with directory
/// descriptors and never following symlinks, so that a tree inside a container's root
/// cannot lead the walk out of it. Hard links within the tree are kept as links.
public struct TreeArchiver {
    private var seen: [String: String] = [:]  // "dev:ino" -> first path

    public init() {}

    /// Archives what `fd` (an O_PATH descriptor of the start) names, as `name` in the
    /// archive; an empty `name` for a directory writes only what it holds, each entry
    /// named from the directory (`bin/`, `bin/sh`, as `docker export` has them).
    public mutating func archive<S: ByteSink>(fd: Int32, name: String, into writer: inout TarWriter<S>) throws(ArchiveError) {
        var info = stat()
        guard fstatat(fd, "", &info, 0x1000 /* AT_EMPTY_PATH */ | AT_SYMLINK_NOFOLLOW) == 0 else {
            throw .system(SysError("stat", path: name))
        }
        try archiveEntry(parent: fd, child: "", info: info, name: name, into: &writer)
    }

    private mutating func archiveEntry<S: ByteSink>(parent: Int32, child: String, info: stat, name: String,
                                                    into writer: inout TarWriter<S>) throws(ArchiveError) {
        var entry = TarEntry(path: name, kind: .file, mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid,
                             modificationTime: Int64(info.st_mtim.tv_sec))
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            entry.kind = .directory
            if !name.isEmpty { try writer.writeHeader(entry) }
            let directory = child.isEmpty ? openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                : openat(parent, child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if directory < 0 { throw .system(SysError("open", path: name)) }
            defer { close(directory) }
            for childName in try TreeArchiver.names(directory, path: name) {
                var childInfo = stat()
                guard fstatat(directory, childName, &childInfo, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                try archiveEntry(parent: directory, child: childName, info: childInfo,
                                 name: name.isEmpty ? childName : name + "/" + childName, into: &writer)
            }
        case S_IFLNK:
            entry.kind = .symbolicLink
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = child.isEmpty ? readlinkat(parent, "", &buffer, Int(PATH_MAX)) : readlinkat(parent, child, &buffer, Int(PATH_MAX))
            if n < 0 { throw .system(SysError("readlink", path: name)) }
            entry.linkTarget = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            try writer.writeHeader(entry)
        case S_IFREG:
            let key = "\(info.st_dev):\(info.st_ino)"
            if info.st_nlink > 1, let first = seen[key] {
                entry.kind = .hardLink
                entry.linkTarget = first
                try writer.writeHeader(entry)
                return
            }
            if info.st_nlink > 1 { seen[key] = name }
            // The start itself is an O_PATH descriptor: reopened for reading through /proc.
            let fd = child.isEmpty ? TreeArchiver.reopen(parent) : openat(parent, child, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw .system(SysError("open", path: name)) }
            defer { close(fd) }
            entry.size = Int64(info.st_size)
            try writer.writeHeader(entry)
            try TreeArchiver.copyContent(of: fd, size: entry.size, path: name, into: &writer)
        case S_IFCHR, S_IFBLK:
            entry.kind = (info.st_mode & S_IFMT) == S_IFCHR ? .characterDevice : .blockDevice
            entry.deviceMajor = UInt32((info.st_rdev >> 8) & 0xfff) | UInt32((info.st_rdev >> 32) & ~0xfff)
            entry.deviceMinor = UInt32(info.st_rdev & 0xff) | UInt32((info.st_rdev >> 12) & ~0xff)
            try writer.writeHeader(entry)
        case S_IFIFO:
            entry.kind = .fifo
            try writer.writeHeader(entry)
        default:
            break  // sockets are not archived
        }
    }

    /// Writes a file's `size` bytes after its header (padding if it shrank meanwhile).
    static func copyContent<S: ByteSink>(of fd: Int32, size: Int64, path: String,
                                         into writer: inout TarWriter<S>) throws(ArchiveError) {
        var source = FileSource(fd: fd, path: path)
        var written: Int64 = 0
        do {
            try source.forEachChunk { chunk in
                let allowed = min(chunk.count, Int(size - written))
                if allowed > 0 { try writer.writeContent(UnsafeRawBufferPointer(rebasing: chunk[0..<allowed])) }
                written += Int64(allowed)
            }
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw .corrupt("\(error)")
        }
        if written < size {
            // The file shrank while being read: pad to the size in the header.
            try writer.writeContent([UInt8](repeating: 0, count: Int(size - written)))
        }
    }

    /// Reopens an O_PATH descriptor for reading.
    static func reopen(_ fd: Int32) -> Int32 {
        open("/proc/self/fd/\(fd)", O_RDONLY | O_CLOEXEC)
    }

    static func names(_ directory: Int32, path: String) throws(ArchiveError) -> [String] {
        let copy = dup(directory)
        guard copy >= 0, let handle = fdopendir(copy) else { throw .system(SysError("opendir", path: path)) }
        defer { closedir(handle) }
        var names: [String] = []
        while let item = readdir(handle) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
