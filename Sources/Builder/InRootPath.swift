#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// A path inside another stage's or image's root filesystem, resolved as if that root were
/// `/`: its symlinks (absolute or with `..`) can never lead to the builder's own files.
/// A stage is the Dockerfile author's, a base image anybody's; a link such as
/// `/data -> /etc` in it must name the stage's `/etc`, not the host's, when a RUN bind-mounts
/// or COPY reads it. The stage is not running while it is read, so it cannot change under us.
enum InRootPath {
    /// The host path of `path` inside `root`, every symlink on the way (the last component
    /// too) resolved within `root`; nil when it does not exist or links loop.
    static func resolve(_ path: String, in root: String) -> String? {
        let (resolved, rest) = walk(path, in: root)
        return rest.isEmpty ? resolved : nil
    }

    /// The host path of `path` inside `root` resolved as far as it exists, the rest appended
    /// as written: a lookup of it fails (its first remaining component is missing) rather
    /// than follow a link out of the root. A loop gives a name that does not exist.
    static func resolvePartially(_ path: String, in root: String) -> String {
        let (resolved, rest) = walk(path, in: root)
        return rest.isEmpty ? resolved : resolved + "/" + rest.joined(separator: "/")
    }

    /// Resolves until done (rest empty) or a component is missing (rest starts with it).
    private static func walk(_ path: String, in root: String) -> (resolved: String, rest: [String]) {
        var pending = BuildContext.clean(path).split(separator: "/").map(String.init).reversed() as [String]
        if pending == ["."] { return (root, []) }
        var resolved: [String] = []
        var links = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = root + "/" + (resolved + [component]).joined(separator: "/")
            var info = stat()
            guard lstat(candidate, &info) == 0 else { return (join(root, resolved), [component] + pending.reversed()) }
            guard info.st_mode & S_IFMT == S_IFLNK else {
                resolved.append(component)
                continue
            }
            links += 1
            guard links <= 40 else { return (root, ["\u{1}symlink-loop"]) }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(candidate, &buffer, Int(PATH_MAX))
            guard count > 0 else { return (root, ["\u{1}unreadable-link"]) }
            let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") { resolved.removeAll() }
            pending += target.split(separator: "/").map(String.init).reversed()
        }
        return (join(root, resolved), [])
    }

    private static func join(_ root: String, _ components: [String]) -> String {
        components.isEmpty ? root : root + "/" + components.joined(separator: "/")
    }
}
