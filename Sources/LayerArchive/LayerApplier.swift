#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// Writes the entries of a layer tar into a directory, never outside it.
///
/// Every parent directory is resolved with openat2(RESOLVE_IN_ROOT) from a descriptor of
/// the target, and the final component is created with *at calls that do not follow
/// symlinks; so `..` entries (refused when they climb above the root), absolute paths
/// (taken as relative to the root) and symlinks planted by earlier entries that point
/// out of the root cannot make a write land outside it.
///
/// Whiteouts are handled in one of two ways: `.overlay` records them as overlayfs does
/// (0:0 character devices and the `trusted.overlay.opaque` attribute) in a directory that
/// holds this layer alone; `.apply` performs them (deletes) on a directory that already
/// holds the layers below, the plain-copy fallback where overlayfs is unavailable.
public final class LayerApplier {
    public enum WhiteoutMode: Sendable { case overlay, apply }

    /// What one application wrote.
    public struct Summary: Sendable {
        public var entries = 0
        public var bytes: Int64 = 0
    }

    public let rootPath: String
    public let mode: WhiteoutMode
    private let rootFD: Int32
    private var cachedParent: (path: String, fd: Int32)?
    private var writtenPaths: Set<String> = []
    private var directoryTimes: [(path: [Substring], seconds: Int64, nanoseconds: Int)] = []
    private let copyBuffer: UnsafeMutableRawBufferPointer

    static let whiteoutPrefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"
    static let resolveFlags: UInt64 = 0x10 /* RESOLVE_IN_ROOT */ | 0x02 /* RESOLVE_NO_MAGICLINKS */

    public init(root: String, mode: WhiteoutMode) throws(ArchiveError) {
        rootPath = root
        self.mode = mode
        rootFD = open(root, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if rootFD < 0 { throw .system(SysError("open", path: root)) }
        copyBuffer = .allocate(byteCount: 1 << 20, alignment: 4096)
    }

    deinit {
        if let cached = cachedParent { close(cached.fd) }
        close(rootFD)
        copyBuffer.deallocate()
    }

    /// Applies every entry of `reader`.
    public func apply<S: ByteSource>(_ reader: inout TarReader<S>) throws(ArchiveError) -> Summary {
        var summary = Summary()
        writtenPaths.removeAll()
        directoryTimes.removeAll()
        while let entry = try reader.next() {
            try applyEntry(entry, reader: &reader)
            summary.entries += 1
            summary.bytes += entry.size
        }
        // Directory times last: writing children changes them.
        for (path, seconds, nanoseconds) in directoryTimes.reversed() {
            try? withParent(of: path, create: false) { (parent, name) throws(ArchiveError) in
                var times = [timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds),
                             timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds)]
                _ = utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW)
            }
        }
        dropCache()
        return summary
    }

    /// Splits a member name into components inside the root.
    public static func components(of raw: String) throws(ArchiveError) -> [Substring] {
        var result: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if result.isEmpty { throw .unsafeEntry(path: raw, reason: "its \"..\" climbs out of the layer's root") }
                result.removeLast()
                continue
            }
            result.append(part)
        }
        if raw.utf8.contains(0) { throw .unsafeEntry(path: raw, reason: "the name holds a NUL byte") }
        return result
    }

    private func applyEntry<S: ByteSource>(_ entry: TarEntry, reader: inout TarReader<S>) throws(ArchiveError) {
        let parts = try LayerApplier.components(of: entry.path)
        guard let last = parts.last else { return }  // the root itself: keep its metadata
        let key = parts.joined(separator: "/")
        if last.hasPrefix(LayerApplier.whiteoutPrefix) {
            try applyWhiteout(parts, name: last, raw: entry.path)
            return
        }
        writtenPaths.insert(key)
        try withParent(of: parts, create: true) { (parent, name) throws(ArchiveError) in
            try create(entry, parent: parent, name: name, path: parts, reader: &reader)
        }
    }

    private func applyWhiteout(_ parts: [Substring], name: Substring, raw: String) throws(ArchiveError) {
        let directory = Array(parts.dropLast())
        if name == LayerApplier.opaqueMarker {
            switch mode {
            case .overlay:
                let fd = try openDirectory(directory, create: true)
                defer { close(fd) }
                let value: [UInt8] = [UInt8(ascii: "y")]
                let procPath = "/proc/self/fd/\(fd)"
                if setxattr(procPath, "trusted.overlay.opaque", value, 1, 0) != 0 {
                    throw .system(SysError("setxattr trusted.overlay.opaque", path: join(directory)))
                }
            case .apply:
                let prefix = directory.isEmpty ? "" : join(directory) + "/"
                let fd = try openDirectory(directory, create: true)
                defer { close(fd) }
                for child in try listNames(fd, path: join(directory)) where !writtenPaths.contains(prefix + child) {
                    try removeTree(parent: fd, name: child, path: prefix + child)
                }
            }
            return
        }
        if name.hasPrefix(LayerApplier.whiteoutPrefix + LayerApplier.whiteoutPrefix) {
            return  // aufs metadata (.wh..wh.plnk and the like): not content
        }
        let target = String(name.dropFirst(LayerApplier.whiteoutPrefix.count))
        guard !target.isEmpty, target != ".", target != ".." else {
            throw .unsafeEntry(path: raw, reason: "whiteout names no file")
        }
        try withParent(of: directory + [Substring(target)], create: mode == .overlay) { (parent, name) throws(ArchiveError) in
            try removeTree(parent: parent, name: name, path: raw)
            if mode == .overlay {
                if mknodat(parent, name, S_IFCHR | 0o000, 0) != 0 {
                    throw .system(SysError("mknod whiteout", path: join(directory) + "/" + target))
                }
            }
        }
    }

    private func create<S: ByteSource>(_ entry: TarEntry, parent: Int32, name: String, path: [Substring],
                                       reader: inout TarReader<S>) throws(ArchiveError) {
        var existing = stat()
        let exists = fstatat(parent, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
        let existingIsDirectory = exists && (existing.st_mode & S_IFMT) == S_IFDIR
        if exists && !(entry.kind == .directory && existingIsDirectory) {
            try removeTree(parent: parent, name: name, path: entry.path)
        }
        let permissions = mode_t(entry.mode & 0o7777)
        switch entry.kind {
        case .directory:
            if !existingIsDirectory, mkdirat(parent, name, 0o700) != 0 {
                throw .system(SysError("mkdir", path: entry.path))
            }
            let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw .system(SysError("open", path: entry.path)) }
            defer { close(fd) }
            try setOwnerModeAndXattrs(fd: fd, entry: entry, permissions: permissions)
            directoryTimes.append((path, entry.modificationTime, entry.modificationNanoseconds))
        case .file:
            let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 { throw .system(SysError("create", path: entry.path)) }
            defer { close(fd) }
            while true {
                let n = try reader.readContent(into: copyBuffer)
                if n == 0 { break }
                do {
                    try Files.writeAll(fd: fd, buffer: UnsafeRawBufferPointer(rebasing: copyBuffer[0..<n]), path: entry.path)
                } catch {
                    throw .system(error)
                }
            }
            try setOwnerModeAndXattrs(fd: fd, entry: entry, permissions: permissions)
            var times = [timespec(tv_sec: Int(entry.modificationTime), tv_nsec: entry.modificationNanoseconds),
                         timespec(tv_sec: Int(entry.modificationTime), tv_nsec: entry.modificationNanoseconds)]
            _ = futimens(fd, &times)
        case .symbolicLink:
            if symlinkat(entry.linkTarget, parent, name) != 0 { throw .system(SysError("symlink", path: entry.path)) }
            if fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0 {
                throw .system(SysError("lchown", path: entry.path))
            }
            var times = [timespec(tv_sec: Int(entry.modificationTime), tv_nsec: 0),
                         timespec(tv_sec: Int(entry.modificationTime), tv_nsec: 0)]
            _ = utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW)
        case .hardLink:
            let targetParts = try LayerApplier.components(of: entry.linkTarget)
            guard !targetParts.isEmpty else {
                throw .unsafeEntry(path: entry.path, reason: "hard link to the root directory")
            }
            let targetParent = try openDirectory(Array(targetParts.dropLast()), create: false)
            defer { close(targetParent) }
            if linkat(targetParent, String(targetParts.last!), parent, name, 0) != 0 {
                throw .system(SysError("link to \(entry.linkTarget)", path: entry.path))
            }
        case .characterDevice, .blockDevice, .fifo:
            let type: mode_t = entry.kind == .fifo ? S_IFIFO : (entry.kind == .blockDevice ? S_IFBLK : S_IFCHR)
            let device = entry.kind == .fifo ? 0 : caisson_makedev(entry.deviceMajor, entry.deviceMinor)
            if mknodat(parent, name, type | permissions, dev_t(device)) != 0 {
                throw .system(SysError("mknod", path: entry.path))
            }
            if fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0 {
                throw .system(SysError("chown", path: entry.path))
            }
            _ = fchmodat(parent, name, permissions, 0)
        }
    }

    private func setOwnerModeAndXattrs(fd: Int32, entry: TarEntry, permissions: mode_t) throws(ArchiveError) {
        if fchown(fd, entry.uid, entry.gid) != 0 { throw .system(SysError("chown", path: entry.path)) }
        if fchmod(fd, permissions) != 0 { throw .system(SysError("chmod", path: entry.path)) }
        for (name, value) in entry.xattrs {
            if fsetxattr(fd, name, value, value.count, 0) != 0 && errno != ENOTSUP && errno != EOPNOTSUPP {
                throw .system(SysError("setxattr \(name)", path: entry.path))
            }
        }
    }

    // MARK: Resolution inside the root

    private func join(_ parts: [Substring]) -> String { parts.joined(separator: "/") }

    /// Forgets the cached parent descriptor (a directory was removed, so paths may now
    /// resolve differently). A descriptor in use by `withParent` is closed when it returns.
    private func dropCache() {
        if let cached = cachedParent { close(cached.fd) }
        cachedParent = nil
        cacheInvalidated = true
    }
    private var cacheInvalidated = false

    /// Runs `body` with a descriptor of the parent directory of `parts` and the last name.
    private func withParent(of parts: [Substring], create: Bool,
                            _ body: (Int32, String) throws(ArchiveError) -> Void) throws(ArchiveError) {
        let directory = Array(parts.dropLast())
        let key = join(directory)
        let fd: Int32
        if let cached = cachedParent, cached.path == key {
            fd = cached.fd
            cachedParent = nil
        } else {
            fd = try openDirectory(directory, create: create)
            dropCache()
        }
        cacheInvalidated = false
        do {
            try body(fd, String(parts.last!))
        } catch {
            close(fd)
            throw error
        }
        if cacheInvalidated {
            close(fd)
        } else {
            dropCache()
            cachedParent = (key, fd)
        }
    }

    /// Opens a directory inside the root (O_PATH), creating missing ones with mode 0755.
    private func openDirectory(_ parts: [Substring], create: Bool) throws(ArchiveError) -> Int32 {
        let path = parts.isEmpty ? "." : join(parts)
        let fd = caisson_openat2(rootFD, path, UInt64(O_DIRECTORY), LayerApplier.resolveFlags)
        if fd >= 0 { return fd }
        let failure = errno
        if failure == ENOENT, create, !parts.isEmpty {
            return try createDirectories(parts.map(String.init), hops: 0)
        }
        if failure == ENOTDIR {
            throw .unsafeEntry(path: path, reason: "a parent of this entry is not a directory")
        }
        throw .system(SysError("open", path: path, errno: failure))
    }

    /// mkdir -p inside the root. A component that is a symlink (possibly dangling, possibly
    /// pointing out of the root) is followed the way RESOLVE_IN_ROOT would follow it, with
    /// the root as "/", and the directories are made where it leads: inside the root.
    private func createDirectories(_ parts: [String], hops: Int) throws(ArchiveError) -> Int32 {
        var parent = caisson_openat2(rootFD, ".", UInt64(O_DIRECTORY), LayerApplier.resolveFlags)
        if parent < 0 { throw .system(SysError("open", path: rootPath)) }
        var done: [String] = []
        for (index, component) in parts.enumerated() {
            let path = (done + [component]).joined(separator: "/")
            var fd = caisson_openat2(rootFD, path, UInt64(O_DIRECTORY), LayerApplier.resolveFlags)
            if fd < 0 {
                let failure = errno
                guard failure == ENOENT else {
                    close(parent)
                    if failure == ENOTDIR { throw .unsafeEntry(path: path, reason: "a parent of this entry is not a directory") }
                    throw .system(SysError("open", path: path, errno: failure))
                }
                var info = stat()
                if fstatat(parent, component, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                    var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                    let length = readlinkat(parent, component, &target, Int(PATH_MAX))
                    close(parent)
                    guard length > 0, hops < 40 else { throw .system(SysError("readlink", path: path, errno: ELOOP)) }
                    let text = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    var resolved: [String] = text.hasPrefix("/") ? [] : done
                    for piece in text.split(separator: "/") + parts[(index + 1)...].map({ Substring($0) }) {
                        if piece == "." || piece.isEmpty { continue }
                        if piece == ".." { _ = resolved.popLast(); continue }  // clamped at the root
                        resolved.append(String(piece))
                    }
                    return try createDirectories(resolved, hops: hops + 1)
                }
                if mkdirat(parent, component, 0o755) != 0 && errno != EEXIST {
                    let error = SysError("mkdir", path: path)
                    close(parent)
                    throw .system(error)
                }
                fd = caisson_openat2(rootFD, path, UInt64(O_DIRECTORY), LayerApplier.resolveFlags)
                if fd < 0 {
                    let error = SysError("open", path: path)
                    close(parent)
                    throw .system(error)
                }
            }
            close(parent)
            parent = fd
            done.append(component)
        }
        return parent
    }

    private func listNames(_ directoryFD: Int32, path: String) throws(ArchiveError) -> [String] {
        let fd = openat(directoryFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw .system(SysError("open", path: path)) }
        guard let dir = fdopendir(fd) else {
            close(fd)
            throw .system(SysError("fdopendir", path: path))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let item = readdir(dir) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// rm -rf of `name` in `parent`, never following symlinks.
    private func removeTree(parent: Int32, name: String, path: String) throws(ArchiveError) {
        var info = stat()
        if fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT { return }
            throw .system(SysError("stat", path: path))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw .system(SysError("open", path: path)) }
            defer { close(fd) }
            for child in try listNames(fd, path: path) {
                try removeTree(parent: fd, name: child, path: path + "/" + child)
            }
            if unlinkat(parent, name, AT_REMOVEDIR) != 0 { throw .system(SysError("rmdir", path: path)) }
            dropCache()
        } else if unlinkat(parent, name, 0) != 0 {
            throw .system(SysError("unlink", path: path))
        }
    }
}
