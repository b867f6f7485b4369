#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// Where a path of a container lives on the host, as the container sees it: in a volume
/// or bind mount over the root filesystem when the path is at or below the mount's
/// destination (the deepest such mount wins), or in an engine-owned file mounted over
/// the image's (`/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`), else in the root
/// filesystem. So `docker cp` into or out of `/data` reaches the volume mounted there, as
/// dockerd's copy does, whether the container runs or not, rather than the directory the
/// volume hides. Paths are matched by their components (`.`, `..` and repeated slashes
/// taken lexically); a symbolic link in the root filesystem that leads into a mount is
/// followed inside the root filesystem.
struct ContainerPathPlace {
    /// An O_PATH descriptor of the directory the rest of the path is resolved in (owned).
    let root: Int32
    /// The path below `root`.
    let path: String
    /// The container path `root` stands for ("/" for the root filesystem).
    let destination: String
    /// Whether writes are refused here: a read-only mount, or the root filesystem of a
    /// `--read-only` container.
    let readOnly: Bool
    /// A volume or bind mount (not the root filesystem).
    let isMount: Bool

    /// One directory (or file, for the engine's files) mounted in the container.
    struct MountPoint {
        let destination: [Substring]
        let source: String
        let readOnly: Bool
        let isFile: Bool
    }

    /// The mounts of `record` a path may fall in, from its configuration.
    static func mountPoints(of record: ContainerRecord, engine: ContainerEngine) -> [MountPoint] {
        var points: [MountPoint] = []
        let files = engine.directory(of: record.id)
        for (file, target) in [("hosts", "/etc/hosts"), ("resolv.conf", "/etc/resolv.conf"), ("hostname", "/etc/hostname")]
        where Files.exists(files + "/" + file) {
            points.append(MountPoint(destination: components(target), source: files + "/" + file,
                                     readOnly: record.config.readOnly, isFile: true))
        }
        for request in record.config.mounts {
            let source: String
            switch request.kind {
            case .bind: source = request.source
            case .volume: source = engine.options.root + "/volumes/" + request.source + "/_data"
            case .tmpfs: continue  // only the running container has it; dockerd writes under it too
            }
            points.append(MountPoint(destination: components(request.destination), source: source,
                                     readOnly: request.readOnly, isFile: false))
        }
        return points
    }

    /// The path's components, `.` dropped and `..` taken back (never above the root).
    static func components(_ path: String) -> [Substring] {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return parts
    }

    /// Opens the place of `path` in `record`; `rootfs` opens the root filesystem when the
    /// path is in none of its mounts.
    static func open(_ path: String, in record: ContainerRecord, engine: ContainerEngine,
                     rootfs: () throws(ContainerPathError) -> Int32) throws(ContainerPathError) -> ContainerPathPlace {
        let parts = components(path)
        let deepest = mountPoints(of: record, engine: engine)
            .filter { point in
                point.isFile ? parts == point.destination
                             : parts.count >= point.destination.count && Array(parts.prefix(point.destination.count)) == point.destination
            }
            .max { $0.destination.count < $1.destination.count }
        if let point = deepest {
            let directory = point.isFile ? Paths.parent(point.source) : point.source
            let fd = Glibc.open(directory, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw .system(SysError("open", path: directory)) }
            var rest = parts.dropFirst(point.destination.count).joined(separator: "/")
            if point.isFile { rest = Paths.base(point.source) }
            // "/data/." asks for the contents, as it does in the root filesystem.
            if path.hasSuffix("/.") && !rest.isEmpty { rest += "/." }
            return ContainerPathPlace(root: fd, path: rest, destination: "/" + point.destination.joined(separator: "/"),
                                      readOnly: point.readOnly, isMount: true)
        }
        return ContainerPathPlace(root: try rootfs(), path: path, destination: "/", readOnly: record.config.readOnly, isMount: false)
    }
}
