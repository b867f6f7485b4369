#if canImport(Glibc)
import Glibc
#endif
import CaissonShim

/// What one unpacked layer directory holds at a path, in overlayfs' form: a 0:0
/// character device deletes the name from the layers below, a directory whose
/// `trusted.overlay.opaque` (or, for rootless overlays, `user.overlay.opaque`) is "y"
/// hides their whole directory.
enum LayerEntry {
    case absent
    case whiteout
    case directory(opaque: Bool)
    case regular(mode: UInt32, size: Int)
    case symlink
    /// Devices, fifos and sockets: visible, but never package metadata.
    case special

    /// Reads the entry at `hostPath` without following a symbolic link there. The
    /// caller has checked that every directory above it is a real directory of the same
    /// layer, so nothing leaves the layer.
    static func probe(_ hostPath: String) -> LayerEntry {
        var info = stat()
        guard lstat(hostPath, &info) == 0 else { return .absent }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular(mode: UInt32(info.st_mode), size: Int(info.st_size))
        case S_IFDIR: return .directory(opaque: isOpaque(hostPath))
        case S_IFLNK: return .symlink
        case S_IFCHR where info.st_rdev == 0: return .whiteout
        default: return .special
        }
    }

    static let opaqueAttributes = ["trusted.overlay.opaque", "user.overlay.opaque"]

    static func isOpaque(_ hostPath: String) -> Bool {
        for name in opaqueAttributes {
            var value = [UInt8](repeating: 0, count: 2)
            if lgetxattr(hostPath, name, &value, value.count) == 1 && value[0] == UInt8(ascii: "y") { return true }
        }
        return false
    }

    var isDirectory: Bool {
        if case .directory = self { return true }
        return false
    }

    var isOpaqueDirectory: Bool {
        if case .directory(true) = self { return true }
        return false
    }
}

/// Reads regular files without following a symbolic link at their last component.
enum HostFileReader {
    static func contents(_ hostPath: String, limit: Int) -> [UInt8]? {
        let fd = open(hostPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= limit else { return nil }
        return readUpTo(fd, count: Int(info.st_size), offset: 0)
    }

    static func read(_ hostPath: String, offset: Int, count: Int) -> [UInt8]? {
        let fd = open(hostPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, offset >= 0, count >= 0 else { return nil }
        return readUpTo(fd, count: max(0, min(count, Int(info.st_size) - offset)), offset: offset)
    }

    private static func readUpTo(_ fd: Int32, count: Int, offset: Int) -> [UInt8]? {
        if count == 0 { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            done += n
        }
        return Array(bytes[0..<done])
    }

    static func linkTarget(_ hostPath: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(hostPath, &buffer, Int(PATH_MAX))
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
