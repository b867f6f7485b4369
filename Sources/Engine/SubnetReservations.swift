#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// The subnets the Caisson roots of this host have taken, one file each in
/// `/run/caisson-subnets` (a tmpfs, empty after a reboot), made with O_EXCL: two roots
/// creating networks at once (before either has a bridge, so before either subnet is
/// routed) would otherwise both take the first free one, and their bridges, routes and
/// masquerade rules would collide. A file names its owner's root; one whose root is gone
/// (removed without `system reset`) is taken over.
enum SubnetReservations {
    static let directory = "/run/caisson-subnets"

    static func file(_ subnet: String) -> String {
        directory + "/" + subnet.replacingOccurrences(of: "/", with: "_")
    }

    /// Whether another root holds the subnet.
    static func isTakenByOther(_ subnet: String, root: String) -> Bool {
        guard let owner = try? Files.readString(file(subnet)) else { return false }
        let ownerRoot = owner.split(separator: "\n").first.map(String.init) ?? ""
        return ownerRoot != root && Files.exists(ownerRoot + "/engine.db")
    }

    /// Takes the subnet for `root`'s network `id`; false if another live root has it.
    static func reserve(_ subnet: String, root: String, id: String) -> Bool {
        try? Files.makeDirectories(directory, mode: 0o755)
        let path = file(subnet)
        for _ in 0..<2 {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                defer { close(fd) }
                try? Files.writeAll(fd: fd, bytes: Array((root + "\n" + id + "\n").utf8))
                return true
            }
            guard errno == EEXIST else { return true }  // no reservations here: nothing to protect
            if isTakenByOther(subnet, root: root) { return false }
            let owner = (try? Files.readString(path)) ?? ""
            if owner.hasPrefix(root + "\n") {
                // Ours already (a network of this root made again after a crash).
                try? Files.write(path, root + "\n" + id + "\n")
                return true
            }
            unlink(path)  // its root is gone
        }
        return false
    }

    /// Gives the subnet back if `root`'s network `id` holds it.
    static func release(_ subnet: String, root: String, id: String) {
        let path = file(subnet)
        if (try? Files.readString(path)) == root + "\n" + id + "\n" { unlink(path) }
    }
}
