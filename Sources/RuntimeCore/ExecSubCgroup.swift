#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Cgroups

extension Runtime {
    /// The cgroup an exec'd process joins: the container's own, or sub-cgroups of it
    /// (`exec --cgroup`, runc 1.1's syntax). The sub-cgroups must exist already; a missing
    /// one fails the exec before anything starts, as runc's join of it fails.
    func execCgroup(of record: ContainerRecord, subCgroups: [String]) throws(RuntimeError) -> Cgroup? {
        let own = cgroup(of: record)
        let selection = try wrap { () throws(CgroupError) in try SubCgroupSelection.parse(subCgroups) }
        guard let selection else { return own }
        guard let own else {
            throw .unsupported("exec --cgroup: no cgroup found for container \"\(record.id)\"")
        }
        let chosen = try wrap { () throws(CgroupError) in try own.descending(into: selection) }
        if let missing = chosen.missingDirectories.first {
            throw .cgroup(.system(SysError("error adding the process to cgroups: cannot join",
                                           path: missing, errno: ENOENT)))
        }
        RuntimeLog.shared.debug("exec joins \(chosen.paths.map(\.directory).joined(separator: " "))")
        return chosen
    }
}
