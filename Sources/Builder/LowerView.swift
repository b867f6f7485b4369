#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// What the stage's layers so far hold at a path, read from their snapshot directories
/// (overlayfs form, topmost first) without mounting them: a COPY needs to know whether
/// its destination is a directory in the image, and what the directories it writes
/// into look like there, so that its layer changes nothing else.
struct LowerView {
    /// Layer directories, topmost first.
    let layers: [String]

    /// The entry at `path` (absolute in the image), or nil where no layer has it or the
    /// topmost one that mentions it deletes it (a 0:0 character device).
    func entry(_ path: String) -> stat? {
        let components = path.split(separator: "/")
        for layer in layers {
            var info = stat()
            if lstat(layer + path, &info) == 0 {
                if info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0 { return nil }
                return info
            }
            // A parent deleted or made opaque in this layer hides the layers below.
            var prefix = ""
            for component in components.dropLast() {
                prefix += "/" + component
                var parent = stat()
                guard lstat(layer + prefix, &parent) == 0 else { break }
                if parent.st_mode & S_IFMT == S_IFCHR && parent.st_rdev == 0 { return nil }
                var value = [UInt8](repeating: 0, count: 4)
                if parent.st_mode & S_IFMT == S_IFDIR, lgetxattr(layer + prefix, "trusted.overlay.opaque", &value, 4) == 1, value[0] == 0x79 {
                    return nil
                }
            }
        }
        return nil
    }

    func isDirectory(_ path: String) -> Bool {
        guard let info = entry(path) else { return false }
        return info.st_mode & S_IFMT == S_IFDIR
    }
}
