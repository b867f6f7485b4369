#if canImport(Glibc)
import Glibc
#endif

/// The size dockerd gives an unpacked layer or a volume (`docker images`, `history`,
/// `system df`): the bytes of every entry that is not a directory (a symbolic link counts
/// its target's length), each hard-linked file once, symbolic links never followed.
/// Walked through directory descriptors (`openat`, `fstatat`), so a deep tree costs no
/// path building.
public enum TreeSize {
    public static func of(_ path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        guard info.st_mode & S_IFMT == S_IFDIR else { return Int64(info.st_size) }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        var seen = Set<Inode>()
        return walk(fd, &seen)
    }

    private struct Inode: Hashable {
        let device: UInt64
        let number: UInt64
    }

    /// The directory `fd` (taken over and closed) and everything below it.
    private static func walk(_ fd: Int32, _ seen: inout Set<Inode>) -> Int64 {
        guard let directory = fdopendir(fd) else {
            close(fd)
            return 0
        }
        defer { closedir(directory) }
        var total: Int64 = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == 0x2e && (name[1] == 0 || (name[1] == 0x2e && name[2] == 0))
            }
            if isDot { continue }
            var info = stat()
            let status = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { fstatat(dirfd(directory), $0, &info, AT_SYMLINK_NOFOLLOW) }
            }
            guard status == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                let child = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) {
                        openat(dirfd(directory), $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    }
                }
                if child >= 0 { total += walk(child, &seen) }
                continue
            }
            if info.st_nlink > 1, !seen.insert(Inode(device: UInt64(info.st_dev), number: UInt64(info.st_ino))).inserted { continue }
            total += Int64(info.st_size)
        }
        return total
    }
}
