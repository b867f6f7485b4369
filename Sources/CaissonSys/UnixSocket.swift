#if canImport(Glibc)
import Glibc
#endif

/// Unix stream sockets by path, close-on-exec: the monitor's attach and console sockets
/// and the `caisson` side that connects to them.
public enum UnixSocket {
    static func address(_ path: String) throws(SysError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SysError("socket path too long", path: path, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
            raw[bytes.count] = 0
        }
        return address
    }

    /// A listening socket at `path` (replacing a stale one).
    public static func listen(_ path: String) throws(SysError) -> Int32 {
        unlink(path)
        var address = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SysError("socket", path: path) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if bound != 0 || Glibc.listen(fd, 16) != 0 {
            let error = SysError("bind", path: path)
            close(fd)
            throw error
        }
        chmod(path, 0o600)
        return fd
    }

    /// A connection to the socket at `path`. The path is reached through the
    /// /proc/self/fd entry of its directory, so its full length does not matter (a socket
    /// address holds 108 bytes; container directories are longer).
    public static func connect(_ path: String) throws(SysError) -> Int32 {
        let directory = open(Paths.parent(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory < 0 { throw SysError("open", path: Paths.parent(path)) }
        defer { close(directory) }
        var address = try address("/proc/self/fd/\(directory)/" + Paths.base(path))
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SysError("socket", path: path) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0 {
            let error = SysError("connect", path: path)
            close(fd)
            throw error
        }
        return fd
    }
}
