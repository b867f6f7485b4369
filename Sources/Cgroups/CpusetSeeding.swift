#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// cgroup v1 cpuset: a cpuset with no cpus or no memory nodes refuses tasks (ENOSPC), and
/// the kernel leaves both empty in a new directory. So, as runc does, every level of a
/// container's cpuset path, new or already there, gets its parent's values where its own
/// are empty, from the top of the hierarchy down.
extension Cgroup {
    /// Makes `directory` and its missing parents below `root`, seeding each level.
    func createCpuset(_ directory: String, root: String) throws(SysError) {
        let parent = Paths.parent(directory)
        if parent.count > root.count { try createCpuset(parent, root: root) }
        if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw SysError("mkdir", path: directory) }
        try Cgroup.seedCpuset(directory, from: parent)
    }

    /// Copies `cpuset.cpus` and `cpuset.mems` from `parent` where `directory`'s are empty.
    static func seedCpuset(_ directory: String, from parent: String) throws(SysError) {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = try Files.readTrimmed(directory + "/" + file)
            guard own.isEmpty else { continue }
            let inherited = try Files.readTrimmed(parent + "/" + file)
            try Files.writeKernelFile(directory + "/" + file, inherited)
        }
    }
}
