#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// One mounted cgroup hierarchy: a v1 hierarchy with its controllers (possibly
/// co-mounted, like cpu,cpuacct, or a named one like name=systemd), or the v2 one.
public struct Hierarchy: Sendable, Equatable {
    public enum Version: Sendable, Equatable { case v1, v2 }
    public let version: Version
    public let mountPoint: String
    /// v1: the controllers bound to this hierarchy; v2: those listed in cgroup.controllers.
    public let controllers: Set<String>
    /// For named v1 hierarchies ("name=systemd"), the name.
    public let name: String?

    public func has(_ controller: String) -> Bool { controllers.contains(controller) }
}

/// How cgroups are mounted on this host: only v2 (unified), only v1 (legacy), or v1
/// controllers with a v2 hierarchy beside them (hybrid, as on this machine).
public enum CgroupMode: String, Sendable {
    case unified, hybrid, legacy
}

/// The cgroup hierarchies mounted on the host, read once from statfs and mountinfo.
public struct CgroupLayout: Sendable {
    public let mode: CgroupMode
    public let hierarchies: [Hierarchy]

    static let cgroup2Magic: Int = 0x6367_7270
    static let tmpfsMagic: Int = 0x0102_1994

    public init(mode: CgroupMode, hierarchies: [Hierarchy]) {
        self.mode = mode
        self.hierarchies = hierarchies
    }

    /// Detects the layout under /sys/fs/cgroup.
    public static func detect(root: String = "/sys/fs/cgroup") throws(SysError) -> CgroupLayout {
        var type: Int64 = 0
        if caisson_filesystem_type(root, &type) != 0 { throw SysError("statfs", path: root) }
        if Int(type) == cgroup2Magic {
            return CgroupLayout(mode: .unified, hierarchies: [v2Hierarchy(at: root)])
        }
        var hierarchies: [Hierarchy] = []
        let mountinfo = try Files.readString("/proc/self/mountinfo")
        for line in Text.lines(mountinfo) {
            // "36 25 0:31 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu"
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-") else { continue }
            let head = fields[..<dash]
            let tail = Array(fields[(dash + 1)...])
            guard head.count >= 5, tail.count >= 3, tail[0] == "cgroup" else { continue }
            let mountPoint = Paths.unescapeMountPath(String(head[head.startIndex + 4]))
            guard mountPoint.hasPrefix(root + "/"), head[head.startIndex + 3] == "/" else { continue }
            var controllers = Set<String>()
            var name: String?
            for option in tail[2].split(separator: ",") {
                if option.hasPrefix("name=") { name = String(option.dropFirst(5)) }
                else if knownV1Controllers.contains(String(option)) { controllers.insert(String(option)) }
            }
            if hierarchies.contains(where: { $0.mountPoint == mountPoint }) { continue }
            hierarchies.append(Hierarchy(version: .v1, mountPoint: mountPoint, controllers: controllers, name: name))
        }
        var mode = CgroupMode.legacy
        let unified = root + "/unified"
        if caisson_filesystem_type(unified, &type) == 0 && Int(type) == cgroup2Magic {
            mode = .hybrid
            hierarchies.append(v2Hierarchy(at: unified))
        }
        if hierarchies.isEmpty {
            throw SysError("no cgroup hierarchy is mounted under", path: root, errno: ENOENT)
        }
        return CgroupLayout(mode: mode, hierarchies: hierarchies)
    }

    static let knownV1Controllers: Set<String> = [
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event",
        "net_prio", "hugetlb", "pids", "rdma", "misc",
    ]

    static func v2Hierarchy(at path: String) -> Hierarchy {
        let controllers = (try? Files.readTrimmed(path + "/cgroup.controllers")) ?? ""
        return Hierarchy(version: .v2, mountPoint: path,
                         controllers: Set(controllers.split(separator: " ").map(String.init)), name: nil)
    }


    /// The hierarchy that should carry a controller's settings: v1 wins in hybrid mode,
    /// since a controller bound to v1 is not available in v2.
    public func hierarchy(for controller: String) -> Hierarchy? {
        hierarchies.first { $0.version == .v1 && $0.has(controller) }
            ?? hierarchies.first { $0.version == .v2 && $0.has(controller) }
    }

    /// The calling process's own cgroup path in a hierarchy (from /proc/self/cgroup).
    public func ownPath(in hierarchy: Hierarchy, pid: String = "self") -> String {
        guard let text = try? Files.readString("/proc/\(pid)/cgroup") else { return "/" }
        for line in Text.lines(text) {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let names = Set(fields[1].split(separator: ",").map(String.init))
            switch hierarchy.version {
            case .v2 where fields[0] == "0" && fields[1].isEmpty:
                return String(fields[2])
            case .v1 where !hierarchy.controllers.isEmpty && names == hierarchy.controllers:
                return String(fields[2])
            case .v1 where hierarchy.name.map({ names.contains("name=\($0)") }) ?? false:
                return String(fields[2])
            default:
                continue
            }
        }
        return "/"
    }
}
