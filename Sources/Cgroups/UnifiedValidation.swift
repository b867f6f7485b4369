/// linux.resources.unified checked against the host's cgroup v2 hierarchy before any
/// cgroup or state is made, so a key the host cannot take fails the container at once
/// with runc's "invalid configuration" kind of error instead of after its cgroup exists.
extension Cgroup {
    /// Throws `.invalidConfiguration` for a key that is not `CONTROLLER.PARAMETER` (no
    /// slashes), on a host with no cgroup v2 hierarchy, or whose controller the v2
    /// hierarchy does not offer (on hybrid hosts the v1 hierarchies hold most controllers,
    /// and the v2 one often none). `cgroup.*` keys and the core files below belong to
    /// every v2 cgroup, whatever its controllers.
    public func validateUnified(_ unified: [String: String]?) throws(CgroupError) {
        guard let unified, !unified.isEmpty else { return }
        guard let v2 = layout.hierarchies.first(where: { $0.version == .v2 }) else {
            throw .invalidConfiguration("cannot use unified on cgroup v1")
        }
        for key in unified.keys.sorted() {
            if key.contains("/") || key.hasPrefix(".") {
                throw .invalidConfiguration("unified resource \"\(key)\" must be a file name (no slashes)")
            }
            let parts = key.split(separator: ".", maxSplits: 1)
            guard parts.count == 2 else {
                throw .invalidConfiguration("unified resource \"\(key)\" must be in the form CONTROLLER.PARAMETER")
            }
            let controller = String(parts[0])
            if controller != "cgroup" && !Cgroup.coreFiles.contains(key) && !v2.has(controller) {
                let where_ = layout.mode == .hybrid
                    ? " in the cgroup v2 hierarchy (\(v2.mountPoint)) of this hybrid host"
                    : " in the cgroup v2 hierarchy"
                throw .invalidConfiguration("unified resource \"\(key)\" can't be set: controller \"\(controller)\" not available\(where_)")
            }
        }
    }

    /// cgroup v2 files named after a controller that every cgroup has without it.
    static let coreFiles: Set<String> = [
        "cpu.stat", "cpu.stat.local", "cpu.pressure", "memory.pressure", "io.pressure", "irq.pressure",
    ]
}
