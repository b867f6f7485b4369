#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// Resolves paths inside a container's root without ever leaving it.
///
/// A mount destination such as /etc/hosts may be a symlink planted by the image
/// (to /host/etc/shadow, or ../../..). Every lookup goes through openat2 with
/// RESOLVE_IN_ROOT, so symlinks and ".." are resolved as if the root were "/";
/// missing components are created one at a time beneath an already resolved parent.
/// The result is an CAISSON_O_PATH descriptor; mounting onto /proc/self/fd/N then targets
/// exactly the resolved object.
public struct RootedPath {
    public let rootFD: Int32
    public let rootPath: String

    static let resolveInRoot: UInt64 = 0x10
    static let resolveNoMagicLinks: UInt64 = 0x02

    public init(rootFD: Int32, rootPath: String) {
        self.rootFD = rootFD
        self.rootPath = rootPath
    }

    public enum Kind { case directory, file }

    /// Opens `path` (relative to the root) as CAISSON_O_PATH; nil if it does not exist.
    public func open(_ path: String) throws(SysError) -> Int32? {
        let relative = String(Paths.clean(path).dropFirst())
        let fd = caisson_openat2(rootFD, relative.isEmpty ? "." : relative, 0,
                                 RootedPath.resolveInRoot | RootedPath.resolveNoMagicLinks)
        if fd >= 0 { return fd }
        if errno == ENOENT { return nil }
        throw SysError("resolve in root", path: Paths.join(rootPath, path))
    }

    /// Opens `path`, creating missing directories and, if `kind` is .file, the final
    /// file. Returns an CAISSON_O_PATH descriptor the caller closes.
    public func openOrCreate(_ path: String, as kind: Kind, mode: mode_t = 0o755) throws(SysError) -> Int32 {
        if let fd = try open(path) { return fd }
        let components = Paths.clean(path).split(separator: "/").map(String.init)
        var prefix = ""
        for (index, component) in components.enumerated() {
            let current = prefix + "/" + component
            if let fd = try open(current) {
                if index == components.count - 1 { return fd }
                Glibc.close(fd)
                prefix = current
                continue
            }
            guard let parent = try open(prefix.isEmpty ? "/" : prefix) else {
                throw SysError("resolve in root", path: Paths.join(rootPath, prefix), errno: ENOENT)
            }
            defer { Glibc.close(parent) }
            let isLast = index == components.count - 1
            if isLast && kind == .file {
                let created = openat(parent, component, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644)
                if created < 0 && errno != EEXIST { throw SysError("create", path: Paths.join(rootPath, current)) }
                if created >= 0 { Glibc.close(created) }
            } else if mkdirat(parent, component, mode) != 0 && errno != EEXIST {
                throw SysError("mkdir", path: Paths.join(rootPath, current))
            }
            prefix = current
        }
        guard let fd = try open(path) else {
            throw SysError("resolve in root", path: Paths.join(rootPath, path), errno: ENOENT)
        }
        return fd
    }

    /// The path through which mount(2) and friends reach a resolved descriptor.
    public static func procPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }
}
