import CaissonSys
import Cgroups
import OCISpec

/// Checks of the container's cgroup made by `create` and `run` before they change
/// anything in it, in runc's order and wording.
extension Runtime {
    /// linux.resources.unified against the host's cgroup v2 hierarchy, before any state
    /// directory or cgroup exists (runc validates the configuration first too). Costs
    /// nothing when the config has no unified keys.
    func validateCgroupSettings(_ spec: Spec, id: String) throws(RuntimeError) {
        guard let unified = spec.linux?.resources?.unified, !unified.isEmpty else { return }
        let layout = try wrap { () throws(SysError) in try CgroupLayout.detect() }
        try wrap { () throws(CgroupError) in
            let cgroup = try Cgroup(layout: layout, cgroupsPath: spec.linux?.cgroupsPath, containerID: id)
            try cgroup.validateUnified(unified)
        }
    }

    /// runc 1.1's warnings when the container's cgroup already holds processes (joining it
    /// is allowed, but not for long): printed by create and run, to the log or stderr.
    static func warnIfPopulated(_ cgroup: Cgroup) {
        guard cgroup.exists, let pids = try? cgroup.pids(), !pids.isEmpty else { return }
        RuntimeLog.shared.warn("container's cgroup is not empty: \(pids.count) process(es) found")
        RuntimeLog.shared.warn("DEPRECATED: running container in a non-empty cgroup won't be supported in runc 1.2; "
            + "https://github.com/opencontainers/runc/issues/3132")
    }
}
