/// Symbolic links followed as the image itself would follow them, inside its own root:
/// `/etc/os-release` is usually a link to `../usr/lib/os-release`, and an absolute
/// link target means the image's root, never this machine's.
extension ImageFiles {
    /// `path` (absolute in the image) with every symbolic link in it resolved; a link
    /// cannot climb above the image's root. Components that do not exist are kept as
    /// written. Gives up after 40 links (the kernel's limit), returning nil.
    public func resolvingSymlinks(_ path: String) -> String? {
        var resolved: [Substring] = []
        var pending = Array(path.split(separator: "/").reversed())
        var links = 0
        while let component = pending.popLast() {
            if component == "." { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = "/" + (resolved + [component]).joined(separator: "/")
            guard let target = symlinkTarget(candidate) else {
                resolved.append(component)
                continue
            }
            links += 1
            if links > 40 { return nil }
            if target.hasPrefix("/") { resolved = [] }
            pending += target.split(separator: "/").reversed()
        }
        return "/" + resolved.joined(separator: "/")
    }

    /// The whole regular file at `path` with symbolic links followed inside the image.
    public func contentsFollowingLinks(_ path: String, limit: Int) -> [UInt8]? {
        guard let resolved = resolvingSymlinks(path) else { return nil }
        return contents(resolved, limit: limit)
    }
}
