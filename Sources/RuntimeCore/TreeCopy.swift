#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// Copies a directory tree between two open directories, keeping modes, owners,
/// symlinks and device nodes: used for `tmpcopyup`, where a fresh tmpfs starts with
/// what the image had at that path. Descriptor-relative throughout, so nothing is
/// looked up by a path that could lead out of the container.
enum TreeCopy {
    static func copyContents(of source: Int32, into target: Int32, describing path: String) throws(SysError) {
        let listing = dup(source)
        guard listing >= 0, let directory = fdopendir(listing) else { throw SysError("open directory", path: path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        for name in names {
            try copyEntry(name, from: source, to: target, describing: path + "/" + name)
        }
    }

    private static func copyEntry(_ name: String, from source: Int32, to target: Int32, describing path: String) throws(SysError) {
        var info = stat()
        if fstatat(source, name, &info, AT_SYMLINK_NOFOLLOW) != 0 { throw SysError("stat", path: path) }
        let mode = info.st_mode & 0o7777
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            if mkdirat(target, name, mode) != 0 && errno != EEXIST { throw SysError("mkdir", path: path) }
            let from = openat(source, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let to = openat(target, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            defer { if from >= 0 { close(from) }; if to >= 0 { close(to) } }
            guard from >= 0, to >= 0 else { throw SysError("open directory", path: path) }
            try copyContents(of: from, into: to, describing: path)
            _ = fchmod(to, mode)
        case S_IFREG:
            let from = openat(source, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            if from < 0 { throw SysError("open", path: path) }
            defer { close(from) }
            let to = openat(target, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if to < 0 { throw SysError("create", path: path) }
            defer { close(to) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw SysError("read", path: path) }
                if n == 0 { break }
                try Files.writeAll(fd: to, bytes: Array(buffer[0..<n]), path: path)
            }
            _ = fchmod(to, mode)
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlinkat(source, name, &buffer, buffer.count - 1)
            if length < 0 { throw SysError("readlink", path: path) }
            buffer[length] = 0
            if symlinkat(buffer, target, name) != 0 { throw SysError("symlink", path: path) }
        default:
            if mknodat(target, name, info.st_mode, info.st_rdev) != 0 { throw SysError("mknod", path: path) }
        }
        _ = fchownat(target, name, info.st_uid, info.st_gid, AT_SYMLINK_NOFOLLOW)
    }
}
