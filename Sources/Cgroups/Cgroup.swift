#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import OCISpec

/// A container's cgroup: one directory in every mounted hierarchy (v1 controllers,
/// named v1 hierarchies and the v2 one), created, limited, frozen and removed together.
///
/// One type serves v1, v2 and hybrid hosts; each resource goes to the hierarchy that
/// holds its controller (v1 first on hybrid hosts, where v2 holds only what v1 lacks).
public struct Cgroup: Sendable {
    public let layout: CgroupLayout
    /// The container's cgroup path relative to each hierarchy's root, e.g. "/caisson/web".
    public let paths: [(hierarchy: Hierarchy, directory: String)]

    /// Resolves `cgroupsPath` from config.json: absolute paths are taken from each
    /// hierarchy's root, relative ones from the runtime's own cgroup.
    public init(layout: CgroupLayout, cgroupsPath: String?, containerID: String) throws(CgroupError) {
        self.layout = layout
        // Without a cgroupsPath, the container's own directory under each hierarchy's root.
        let requested = cgroupsPath.flatMap { $0.isEmpty ? nil : $0 } ?? "/\(containerID)"
        if !requested.hasPrefix("/") && requested.contains(":") {
            throw .invalidPath("cgroupsPath \"\(requested)\" is in systemd form (slice:prefix:name), "
                + "but the systemd cgroup driver is not supported; use a cgroupfs path")
        }
        var paths: [(Hierarchy, String)] = []
        for hierarchy in layout.hierarchies {
            let relative = requested.hasPrefix("/") ? requested : Paths.join(layout.ownPath(in: hierarchy), requested)
            let cleaned = Paths.clean(relative)
            if cleaned == "/" { throw .invalidPath("cgroupsPath \"\(requested)\" names the root cgroup") }
            paths.append((hierarchy, hierarchy.mountPoint + cleaned))
        }
        self.paths = paths
    }

    /// The directory of this cgroup in the hierarchy that carries `controller`.
    public func directory(for controller: String) -> String? {
        guard let hierarchy = layout.hierarchy(for: controller) else { return nil }
        return paths.first { $0.hierarchy == hierarchy }?.directory
    }

    /// The directory to read membership from: v2 if the host is unified, else a v1 one.
    public var primaryDirectory: String {
        if let dir = directory(for: "pids") ?? directory(for: "freezer") ?? directory(for: "memory") { return dir }
        return paths[0].directory
    }

    // MARK: Creation and membership

    /// Creates the directories. On v1, cpuset is seeded from its parent (an empty
    /// cpuset refuses tasks); on v2, the parent's controllers are delegated.
    public func create() throws(CgroupError) {
        for (hierarchy, directory) in paths {
            do {
                // Another container's delete may remove an empty shared parent (/caisson)
                // between our mkdirs: try again a few times.
                for attempt in 1...5 {
                    do {
                        if hierarchy.version == .v1 && hierarchy.has("cpuset") {
                            try createCpuset(directory, root: hierarchy.mountPoint)
                        } else {
                            try Files.makeDirectories(directory)
                        }
                        break
                    } catch where error.errno == ENOENT && attempt < 5 {
                        continue
                    }
                }
                // On hybrid hosts too: the v2 hierarchy carries what v1 lacks (hugetlb here).
                if hierarchy.version == .v2 {
                    try delegateControllers(to: directory, root: hierarchy.mountPoint)
                }
            } catch {
                throw .system(error)
            }
        }
    }

    private func delegateControllers(to directory: String, root: String) throws(SysError) {
        var ancestor = root
        let components = directory.dropFirst(root.count).split(separator: "/")
        for component in components {
            let available = (try? Files.readTrimmed(ancestor + "/cgroup.controllers")) ?? ""
            let enabled = Set(((try? Files.readTrimmed(ancestor + "/cgroup.subtree_control")) ?? "").split(separator: " "))
            let wanted = available.split(separator: " ").filter { !enabled.contains($0) }
            if !wanted.isEmpty {
                // Best effort: a controller already bound elsewhere simply stays off.
                _ = try? Files.writeKernelFile(ancestor + "/cgroup.subtree_control",
                                               wanted.map { "+\($0)" }.joined(separator: " "))
            }
            ancestor += "/" + component
        }
    }

    /// Moves a process into the cgroup in every hierarchy.
    public func add(pid: Int32) throws(CgroupError) {
        for (_, directory) in paths {
            do {
                try Files.writeKernelFile(directory + "/cgroup.procs", String(pid))
            } catch {
                throw .system(error)
            }
        }
    }

    /// Every pid in the cgroup and its descendants.
    public func pids() throws(CgroupError) -> [Int32] {
        var result: [Int32] = []
        func collect(_ directory: String) throws(SysError) {
            let text = try Files.readString(directory + "/cgroup.procs")
            result += Text.lines(text).compactMap { Int32($0) }
            for name in try Files.listSubdirectories(directory) {
                try collect(directory + "/" + name)
            }
        }
        do {
            try collect(primaryDirectory)
        } catch {
            if error.errno == ENOENT { return [] }
            throw .system(error)
        }
        return result
    }

    public var exists: Bool { paths.contains { Files.isDirectory($0.directory) } }

    // MARK: Freezing

    public func freeze() throws(CgroupError) { try setFrozen(true) }
    public func thaw() throws(CgroupError) { try setFrozen(false) }

    private func setFrozen(_ frozen: Bool) throws(CgroupError) {
        do {
            if let hierarchy = layout.hierarchy(for: "freezer"), hierarchy.version == .v1,
               let directory = directory(for: "freezer") {
                let target = frozen ? "FROZEN" : "THAWED"
                for _ in 0..<2000 {
                    try Files.writeKernelFile(directory + "/freezer.state", target)
                    if try Files.readTrimmed(directory + "/freezer.state") == target { return }
                    Clock.sleep(milliseconds: 1)
                }
                throw CgroupError.unsupported("freezer did not reach \(target) in \(directory)")
            }
            guard let v2 = paths.first(where: { $0.hierarchy.version == .v2 })?.directory,
                  Files.exists(v2 + "/cgroup.freeze") else {
                throw CgroupError.unsupported("no freezer controller is available on this host")
            }
            try Files.writeKernelFile(v2 + "/cgroup.freeze", frozen ? "1" : "0")
            for _ in 0..<2000 {
                let events = try Files.readString(v2 + "/cgroup.events")
                if events.contains("frozen \(frozen ? 1 : 0)") { return }
                Clock.sleep(milliseconds: 1)
            }
            throw CgroupError.unsupported("cgroup \(v2) did not reach frozen=\(frozen)")
        } catch let error as SysError {
            throw .system(error)
        } catch let error as CgroupError {
            throw error
        } catch {
            throw .unsupported("\(error)")
        }
    }

    public var isFrozen: Bool {
        if let hierarchy = layout.hierarchy(for: "freezer"), hierarchy.version == .v1,
           let directory = directory(for: "freezer") {
            let state = (try? Files.readTrimmed(directory + "/freezer.state")) ?? ""
            return state == "FROZEN" || state == "FREEZING"
        }
        if let v2 = paths.first(where: { $0.hierarchy.version == .v2 })?.directory,
           let events = try? Files.readString(v2 + "/cgroup.events") {
            return events.contains("frozen 1")
        }
        return false
    }

    // MARK: Removal

    /// Removes the directories (children first), retrying briefly while the kernel
    /// still counts exiting tasks. Parents are left alone: they may be shared (an
    /// engine's slice) and are not ours.
    public func destroy() throws(CgroupError) {
        var failure: SysError?
        for (_, directory) in paths {
            if let error = removeRecursively(directory) { failure = failure ?? error }
        }
        if let failure { throw .system(failure) }
    }

    private func removeRecursively(_ directory: String) -> SysError? {
        guard let names = try? Files.listSubdirectories(directory) else { return nil }
        for name in names {
            if let error = removeRecursively(directory + "/" + name) { return error }
        }
        for attempt in 0..<200 {
            if rmdir(directory) == 0 || errno == ENOENT { return nil }
            if errno != EBUSY || attempt == 199 { return SysError("rmdir", path: directory) }
            Clock.sleep(milliseconds: 5)
        }
        return nil
    }
}
