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

    /// The host path of the file the image has at `path`, if any.
    func hostPath(_ path: String) -> String? {
        guard entry(path) != nil else { return nil }
        return layers.first { layer in
            var info = stat()
            return lstat(layer + path, &info) == 0
        }.map { $0 + path }
    }

    /// `path` (absolute) with the image's symlinks followed as inside the image, never
    /// above its root: a COPY into a link to a directory writes into that directory, as
    /// BuildKit resolves destinations. Components the image lacks are kept as written.
    func resolve(_ path: String) -> String {
        var resolved: [Substring] = []
        var pending = Array(path.split(separator: "/").reversed())
        var hops = 0
        while let component = pending.popLast() {
            if component == "." { continue }
            if component == ".." { _ = resolved.popLast(); continue }
            let candidate = "/" + (resolved + [component]).joined(separator: "/")
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            if hops < 255, let info = entry(candidate), info.st_mode & S_IFMT == S_IFLNK, let host = hostPath(candidate),
               case let count = readlink(host, &target, Int(PATH_MAX)), count > 0 {
                hops += 1
                let link = String(decoding: target[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if link.hasPrefix("/") { resolved = [] }
                pending += link.split(separator: "/").reversed()
            } else {
                resolved.append(component)
            }
        }
        return "/" + resolved.joined(separator: "/")
    }

    /// `--chown` and USER values: numbers, or names looked up in the image's /etc/passwd
    /// and /etc/group (a user's group is their primary one when none is given).
    func resolveOwner(_ text: String) throws(BuildError) -> (uid: UInt32, gid: UInt32) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func lookup(_ file: String, _ name: String) -> [String]? {
            guard let path = hostPath(file), let text = try? Files.readString(path) else { return nil }
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                if fields.first == name { return fields }
            }
            return nil
        }
        var uid: UInt32
        var gid: UInt32
        if let number = UInt32(parts[0]) {
            uid = number
            gid = number
        } else if let fields = lookup("/etc/passwd", parts[0]), fields.count > 3, let u = UInt32(fields[2]), let g = UInt32(fields[3]) {
            uid = u
            gid = g
        } else {
            throw .invalid("unable to find user \(parts[0]): no matching entries in passwd file")
        }
        if parts.count == 2 {
            if let number = UInt32(parts[1]) {
                gid = number
            } else if let fields = lookup("/etc/group", parts[1]), fields.count > 2, let g = UInt32(fields[2]) {
                gid = g
            } else {
                throw .invalid("unable to find group \(parts[1]): no matching entries in group file")
            }
        }
        return (uid, gid)
    }

    func isDirectory(_ path: String) -> Bool {
        guard let info = entry(path) else { return false }
        return info.st_mode & S_IFMT == S_IFDIR
    }
}
