#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import OCISpec

/// The mount points the runtime creates in a step's root filesystem (/proc, /sys,
/// /etc/hosts, ... where the image has none) are not the step's work, so they must not
/// reach its layer, as BuildKit and buildah leave them out. Recorded before the step
/// runs (the paths missing from the root filesystem), pruned from the upper directory
/// after it: each stub that is still an empty directory or empty file, then each parent
/// directory that only held stubs and whose owner and mode are those of the layers
/// below (a directory copied up to hold a stub, changed in nothing else).
struct MountStubs {
    private(set) var paths: [String] = []

    /// The mount destinations of `spec` (and their parents) missing from `rootfs`.
    init(spec: Spec, rootfs: String) {
        var missing = Set<String>()
        for mount in spec.mounts ?? [] {
            var path = ""
            for component in mount.destination.split(separator: "/") where component != "." && component != ".." {
                path += "/" + component
                var info = stat()
                if lstat(rootfs + path, &info) != 0 { missing.insert(path) }
            }
        }
        // Deepest first, so a parent is looked at after its children.
        paths = missing.sorted { $0.count == $1.count ? $0 > $1 : $0.count > $1.count }
    }

    /// Removes the stubs from `upper`; `lowers` are the layer directories below it, top first.
    func prune(upper: String, lowers: [String]) {
        var parents = Set<String>()
        for path in paths {
            let full = upper + path
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            if type == S_IFDIR {
                if (try? Files.listDirectory(full))?.isEmpty == true { rmdir(full) }
            } else if type == S_IFREG && info.st_size == 0 {
                unlink(full)
            }
            parents.insert(Paths.parent(path))
        }
        // Parents copied up only to hold a stub: empty now, and as the layers below have them.
        for parent in parents.sorted(by: { $0.count > $1.count }) where parent != "/" && !paths.contains(parent) {
            var path = parent
            while path != "/" {
                let full = upper + path
                guard (try? Files.listDirectory(full))?.isEmpty == true, MountStubs.unchanged(full, path: path, lowers: lowers) else { break }
                rmdir(full)
                path = Paths.parent(path)
            }
        }
    }

    /// Whether a directory in the upper layer has the owner and mode it has in the
    /// topmost lower layer that holds it (and is not opaque).
    static func unchanged(_ upperPath: String, path: String, lowers: [String]) -> Bool {
        var upper = stat()
        guard lstat(upperPath, &upper) == 0 else { return false }
        var value = [UInt8](repeating: 0, count: 4)
        if lgetxattr(upperPath, "trusted.overlay.opaque", &value, value.count) > 0 { return false }
        for lower in lowers {
            var info = stat()
            if lstat(lower + path, &info) == 0 {
                return info.st_mode == upper.st_mode && info.st_uid == upper.st_uid && info.st_gid == upper.st_gid
            }
        }
        return false
    }
}
