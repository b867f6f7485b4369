#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Images

/// What a build killed midway (Ctrl-C, SIGKILL) leaves: its step's mount, the runtime's
/// state of the step's container and scratch directories. Every such name carries the
/// building process's pid (`build-PID-RANDOM`, `copy-PID-RANDOM`, ...); the next build (and
/// `caisson builder prune`) removes those whose process is gone.
public enum BuildLeftovers {
    /// A scratch name for `kind`, owned by this process.
    public static func name(_ kind: String) -> String { "\(kind)-\(getpid())-\(RandomID.hex(12))" }

    /// The pid in a scratch name, if it is one.
    static func owner(of name: String) -> pid_t? {
        let parts = name.split(separator: "-")
        guard parts.count >= 3, let pid = pid_t(parts[parts.count - 2]), pid > 0 else { return nil }
        return pid
    }

    static func isAlive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Removes what dead builds left in `images`' build area; returns the names removed.
    @discardableResult
    public static func sweep(images: ImageService, runtime: String?, runtimeRoot: String?) -> [String] {
        let area = images.root + "/build"
        var removed: [String] = []
        for name in (try? Files.listDirectory(area)) ?? [] {
            guard let pid = owner(of: name), !isAlive(pid) else { continue }
            let directory = area + "/" + name
            if let runtime, let runtimeRoot, name.hasPrefix("build-") {
                _ = try? Spawn.run([runtime, "--root", runtimeRoot, "delete", "-f", name])
            }
            // A step's root filesystem (build-*/rootfs) or a stage mounted for COPY --from.
            _ = umount2(directory + "/rootfs", Int32(MNT_DETACH))
            _ = umount2(directory, Int32(MNT_DETACH))
            if Files.isDirectory(images.root + "/rootfs/" + name) { try? images.releaseRootfs(id: name) }
            try? Files.removeTree(directory)
            removed.append(name)
        }
        // Writable layers of steps whose build directory is already gone.
        for name in (try? Files.listDirectory(images.root + "/rootfs")) ?? [] where name.hasPrefix("build-") {
            guard let pid = owner(of: name), !isAlive(pid), !Files.exists(area + "/" + name) else { continue }
            try? images.releaseRootfs(id: name)
            removed.append(name)
        }
        return removed
    }
}
