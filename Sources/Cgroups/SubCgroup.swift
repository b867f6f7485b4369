import CaissonSys

/// The sub-cgroups an `exec --cgroup` process joins, in runc 1.1's syntax.
///
/// Each argument is either `PATH` (one argument only: the same sub-path in every
/// hierarchy; on cgroup v2 the only form that makes sense) or
/// `CONTROLLER[,CONTROLLER...]:PATH` (repeatable: that sub-path in the hierarchies of the
/// named controllers, the others staying in the container's own cgroup). Controllers are
/// named as runc names the keys of its cgroup paths: v1 controllers (`memory`, `cpu`,
/// ...), named hierarchies (`name=systemd`), and the empty name for the v2 hierarchy.
/// A path is taken relative to the container's cgroup, absolute or not, and must stay
/// inside it.
public enum SubCgroupSelection: Sendable, Equatable {
    /// The same sub-path in every hierarchy.
    case everywhere(String)
    /// Controller name -> sub-path.
    case perController([String: String])

    /// Parses the `--cgroup` arguments; nil when there are none. The errors carry runc's
    /// wording, since callers match on it.
    public static func parse(_ arguments: [String]) throws(CgroupError) -> SubCgroupSelection? {
        guard !arguments.isEmpty else { return nil }
        var perController: [String: String] = [:]
        var everywhere: String?
        for argument in arguments {
            let parts = argument.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count > 2 {
                throw .invalidSubCgroup("invalid --cgroup argument: \(argument)")
            }
            if parts.count == 1 {
                guard arguments.count == 1 else {
                    throw .invalidSubCgroup("invalid --cgroup argument: \(argument) (missing <controller>: prefix)")
                }
                everywhere = argument
                continue
            }
            for controller in parts[0].split(separator: ",", omittingEmptySubsequences: false) {
                perController[String(controller)] = String(parts[1])
            }
        }
        // An empty controller name (":PATH") is the unified hierarchy's key, which runc
        // takes as "everywhere" (on v1 the same path for all, on v2 the only one).
        if let path = everywhere ?? perController[""] { return .everywhere(path) }
        return .perController(perController)
    }
}

extension Cgroup {
    /// runc's name for a hierarchy in its cgroup paths: its controllers (v1), `name=NAME`
    /// (a named v1 hierarchy), or "" (v2).
    static func pathKeys(of hierarchy: Hierarchy) -> [String] {
        switch hierarchy.version {
        case .v2: return [""]
        case .v1: return hierarchy.controllers.sorted() + (hierarchy.name.map { ["name=\($0)"] } ?? [])
        }
    }

    /// This cgroup with some hierarchies' directories moved down into a sub-cgroup, for
    /// `exec --cgroup`. The sub-cgroups are not created (runc joins existing ones only).
    public func descending(into selection: SubCgroupSelection) throws(CgroupError) -> Cgroup {
        var moved = paths
        func descend(_ index: Int, _ subPath: String) throws(CgroupError) {
            let base = paths[index].directory
            let joined = Paths.clean(base + "/" + subPath)
            guard joined == base || joined.hasPrefix(base + "/") else {
                throw .invalidSubCgroup("\(subPath) is not a sub cgroup path")
            }
            moved[index].directory = joined
        }
        switch selection {
        case .everywhere(let subPath):
            for index in paths.indices { try descend(index, subPath) }
        case .perController(let requests):
            var chosen: [Int: String] = [:]
            for (controller, subPath) in requests.sorted(by: { $0.key < $1.key }) {
                guard let index = paths.indices.first(where: { Cgroup.pathKeys(of: paths[$0].hierarchy).contains(controller) }) else {
                    throw .invalidSubCgroup("unknown controller \(controller) in SubCgroupPaths")
                }
                if let earlier = chosen[index], earlier != subPath {
                    throw .invalidSubCgroup("--cgroup: controllers of one hierarchy (\(paths[index].hierarchy.mountPoint)) "
                        + "name two sub cgroups, \(earlier) and \(subPath)")
                }
                chosen[index] = subPath
                try descend(index, subPath)
            }
        }
        return Cgroup(layout: layout, resolvedPaths: moved)
    }

    /// A cgroup with its directories already resolved.
    init(layout: CgroupLayout, resolvedPaths: [(hierarchy: Hierarchy, directory: String)]) {
        self.layout = layout
        self.paths = resolvedPaths
    }

    /// The directories that do not exist (a sub-cgroup must be made before it is joined).
    public var missingDirectories: [String] {
        paths.map(\.directory).filter { !Files.isDirectory($0) }
    }
}
