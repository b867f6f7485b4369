import Cgroups

/// Where the kernel counts OOM kills in a container's memory cgroup (`oom_kill N` in v1's
/// memory.oom_control, v2's memory.events): the container's monitor reads it when the
/// container exits, before the runtime's delete removes the cgroup, and records `oom` with
/// the exit; inspect's `State.OOMKilled` and docker's `oom` event come from that.
extension ContainerEngine {
    /// The memory hierarchy, found once per process (a start asks for it).
    private static let memoryHierarchy: Hierarchy? = (try? CgroupLayout.detect())?.hierarchy(for: "memory")

    static func oomFile(cgroupsPath: String) -> String? {
        guard let hierarchy = memoryHierarchy else { return nil }
        switch hierarchy.version {
        case .v1: return hierarchy.mountPoint + cgroupsPath + "/memory.oom_control"
        case .v2: return hierarchy.mountPoint + cgroupsPath + "/memory.events"
        }
    }
}
