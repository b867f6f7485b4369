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

}
