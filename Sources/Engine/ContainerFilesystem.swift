#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import Images
import LayerArchive

/// Why a path in a container's filesystem could not be read or written, in docker's words.
public enum ContainerPathError: Error, CustomStringConvertible, Sendable {
    /// docker: "Could not find the file PATH in container NAME" (404).
    case noSuchPath(container: String, path: String)
    /// An upload's destination exists but is not a directory (400).
    case notADirectory(String)
    /// `noOverwriteDirNonDir`: an entry would replace a directory by a non-directory or the other way.
    case wouldReplace(existing: String, entry: String, directory: Bool)
    case noRootfs(String)
    /// A copy into a `--read-only` container's root filesystem (docker's words).
    case readOnlyRootfs
    /// A copy into a read-only volume or bind mount (docker's words).
    case readOnlyMount
    case archive(ArchiveError)
    case system(SysError)

    public var description: String {
        switch self {
        case .noSuchPath(let container, let path): return "Could not find the file \(path) in container \(container)"
        case .notADirectory(let path): return "extraction point is not a directory: \(path)"
        case .wouldReplace(let existing, let entry, let directory):
            return directory ? "cannot overwrite directory \"\(existing)\" with non-directory \"\(entry)\""
                             : "cannot overwrite non-directory \"\(existing)\" with directory \"\(entry)\""
        case .noRootfs(let name): return "container \(name) has no root filesystem mounted"
        case .readOnlyRootfs: return "container rootfs is marked read-only"
        case .readOnlyMount: return "mounted volume is marked read-only"
        case .archive(let error): return error.description
        case .system(let error): return error.description
        }
    }
}

/// What docker's `X-Docker-Container-Path-Stat` header carries about a path: its base
/// name, size, Go `os.FileMode` bits, modification time and, for a symlink, the path it
/// resolves to inside the container.
public struct ContainerPathStat: Sendable {
    public var name: String
    public var size: Int64
    public var mode: UInt32
    public var mtime: String
    public var linkTarget: String
    public var isDirectory: Bool { mode & ContainerPathStat.goModeDir != 0 }

    public static let goModeDir: UInt32 = 1 << 31
    static let goModeSymlink: UInt32 = 1 << 27
    static let goModeDevice: UInt32 = 1 << 26
    static let goModeNamedPipe: UInt32 = 1 << 25
    static let goModeSocket: UInt32 = 1 << 24
    static let goModeSetuid: UInt32 = 1 << 23
    static let goModeSetgid: UInt32 = 1 << 22
    static let goModeCharDevice: UInt32 = 1 << 21
    static let goModeSticky: UInt32 = 1 << 20

    /// Go's FileMode for a stat mode.
    static func goMode(_ mode: mode_t) -> UInt32 {
        var result = UInt32(mode & 0o777)
        switch mode & S_IFMT {
        case S_IFDIR: result |= goModeDir
        case S_IFLNK: result |= goModeSymlink
        case S_IFIFO: result |= goModeNamedPipe
        case S_IFSOCK: result |= goModeSocket
        case S_IFBLK: result |= goModeDevice
        case S_IFCHR: result |= goModeDevice | goModeCharDevice
        default: break
        }
        if mode & S_ISUID != 0 { result |= goModeSetuid }
        if mode & S_ISGID != 0 { result |= goModeSetgid }
        if mode & S_ISVTX != 0 { result |= goModeSticky }
        return result
    }
}

/// One entry of `docker diff`: 0 modified, 1 added, 2 deleted.
public struct ContainerChange: Sendable, Equatable {
    public var kind: Int
    public var path: String
}

/// Reading and writing a container's filesystem from the host (`cp`, `export`, `diff`,
/// and the Docker API's archive routes): every path resolved with
/// `openat2(RESOLVE_IN_ROOT)` in the container's mounted root, or in the volume or bind
/// mount it falls in (`ContainerPathPlace`), so neither a symlink in the container nor an
/// archive entry leads outside it.
extension ContainerEngine {
    static let inRoot: UInt64 = 0x10 /* RESOLVE_IN_ROOT */ | 0x02 /* RESOLVE_NO_MAGICLINKS */

    /// The container's mounted root filesystem as an O_PATH descriptor (mounted again if a
    /// reboot took the mount away).
    func openRootfs(_ record: ContainerRecord) throws(ContainerPathError) -> Int32 {
        try? ensureRootfsMounted(record)
        let fd = open(bundle(of: record.id) + "/rootfs", CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .noRootfs(record.name) }
        return fd
    }

    /// An O_PATH descriptor of `path` inside the root (the last component not followed).
    func openInRoot(_ root: Int32, _ record: ContainerRecord, _ path: String, follow: Bool = false) throws(ContainerPathError) -> Int32 {
        let relative = String(path.drop(while: { $0 == "/" }))
        let fd = caisson_openat2(root, relative.isEmpty ? "." : relative, follow ? 0 : UInt64(O_NOFOLLOW), ContainerEngine.inRoot)
        guard fd >= 0 else { throw .noSuchPath(container: record.name, path: path) }
        return fd
    }

    /// Where `path` lives: its mount, or the root filesystem.
    func locate(_ record: ContainerRecord, _ path: String) throws(ContainerPathError) -> ContainerPathPlace {
        try ContainerPathPlace.open(path, in: record, engine: self) { () throws(ContainerPathError) in try openRootfs(record) }
    }

    /// docker's stat of a path in the container.
    public func statPath(_ record: ContainerRecord, _ path: String) throws(ContainerPathError) -> ContainerPathStat {
        let place = try locate(record, path)
        let root = place.root
        defer { close(root) }
        let fd = try openInRoot(root, record, place.path)
        defer { close(fd) }
        var info = stat()
        guard fstatat(fd, "", &info, 0x1000 | AT_SYMLINK_NOFOLLOW) == 0 else { throw .system(SysError("stat", path: path)) }
        var linkTarget = ""
        if info.st_mode & S_IFMT == S_IFLNK, let resolved = try? openInRoot(root, record, place.path, follow: true) {
            defer { close(resolved) }
            let rootPath = ContainerEngine.descriptorPath(root)
            let target = ContainerEngine.descriptorPath(resolved)
            let inside = target.hasPrefix(rootPath) ? String(target.dropFirst(rootPath.count)) : target
            linkTarget = place.destination == "/" ? inside : place.destination + inside
            if linkTarget.isEmpty { linkTarget = "/" }
        }
        return ContainerPathStat(name: ContainerEngine.archiveName(path), size: Int64(info.st_size),
                                 mode: ContainerPathStat.goMode(info.st_mode),
                                 mtime: Clock.rfc3339(seconds: Int(info.st_mtim.tv_sec), nanoseconds: Int(info.st_mtim.tv_nsec)),
                                 linkTarget: linkTarget)
    }

    /// The name a path's top entry has in an archive: its base name ("." for the root or
    /// a path ending in "/.", whose contents are wanted).
    static func archiveName(_ path: String) -> String {
        if path.hasSuffix("/.") || path == "." { return "." }
        let trimmed = String(path.reversed().drop(while: { $0 == "/" }).reversed())
        return trimmed.isEmpty ? "/" : Paths.base(trimmed)
    }

    /// The name of the top entry `archivePath` writes for `path`.
    public static func archiveEntryName(_ path: String) -> String {
        let name = archiveName(path)
        return name == "/" ? "." : name
    }

    static func descriptorPath(_ fd: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, Int(PATH_MAX))
        guard n > 0 else { return "" }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes a tar of `path` (named by its base name) to `fd`; the whole root as "."
    /// when `path` is "/", or for `export` as its entries alone (`bin/`, not `./bin/`), as
    /// dockerd's export has them.
    public func archivePath(_ record: ContainerRecord, _ path: String, to fd: Int32, export: Bool = false) throws(ContainerPathError) {
        let place = try locate(record, path)
        defer { close(place.root) }
        let start = try openInRoot(place.root, record, place.path)
        defer { close(start) }
        let name = export && path == "/" ? "" : ContainerEngine.archiveEntryName(path)
        do {
            var writer = TarWriter(FileSink(fd: fd, path: "archive"))
            var archiver = TreeArchiver()
            try archiver.archive(fd: start, name: name, into: &writer)
            try writer.finish()
        } catch {
            throw .archive(error)
        }
    }

    /// Extracts the tar in `archive` into the directory `path` of the container: entries
    /// are contained in that directory (`..` that climbs out is refused, symlinks resolve
    /// inside it). With `noOverwriteDirNonDir`, an entry that would replace a directory by
    /// a non-directory (or the other way) refuses the whole archive before anything is
    /// written. With `copyUIDGID` (docker cp -a) what was extracted belongs to the
    /// container's user (its uid and primary gid, from the container's /etc/passwd).
    public func extractArchive(_ record: ContainerRecord, archive: String, into path: String,
                               noOverwriteDirNonDir: Bool, copyUIDGID: Bool = false) throws(ContainerPathError) {
        let place = try locate(record, path)
        defer { close(place.root) }
        if place.readOnly { throw place.isMount ? .readOnlyMount : .readOnlyRootfs }
        let destination = try openInRoot(place.root, record, place.path, follow: true)
        defer { close(destination) }
        var info = stat()
        guard fstatat(destination, "", &info, 0x1000) == 0 else { throw .system(SysError("stat", path: path)) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .notADirectory(path) }
        if noOverwriteDirNonDir { try checkNoReplacement(archive: archive, destination: destination) }
        let fd = open(archive, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(SysError("open", path: archive)) }
        defer { close(fd) }
        var reader = TarReader(FileSource(fd: fd, path: archive))
        defer { reader.close() }
        do {
            _ = try LayerApplier(root: "/proc/self/fd/\(destination)", mode: .apply).apply(&reader)
        } catch {
            throw .archive(error)
        }
        if copyUIDGID { try chownExtracted(record, archive: archive, destination: destination) }
    }

    /// Gives every entry of `archive`, as extracted under `destination`, the container's user.
    private func chownExtracted(_ record: ContainerRecord, archive: String, destination: Int32) throws(ContainerPathError) {
        var uid: UInt32 = 0, gid: UInt32 = 0
        if let user = record.config.user, !user.isEmpty {
            guard let resolved = try? UserResolver(rootfs: bundle(of: record.id) + "/rootfs").resolve(user) else {
                throw .system(SysError("resolve user \(user)", errno: ENOENT))
            }
            uid = resolved.uid
            gid = resolved.gid
        }
        try forEachEntry(of: archive) { entry, parts throws(ContainerPathError) in
            let target = caisson_openat2(destination, parts.isEmpty ? "." : parts.joined(separator: "/"),
                                         UInt64(O_NOFOLLOW), ContainerEngine.inRoot)
            guard target >= 0 else { return }
            defer { close(target) }
            if fchownat(target, "", uid, gid, 0x1000 /* AT_EMPTY_PATH */ | AT_SYMLINK_NOFOLLOW) != 0 {
                throw ContainerPathError.system(SysError("chown", path: entry.path))
            }
        }
    }

    private func checkNoReplacement(archive: String, destination: Int32) throws(ContainerPathError) {
        try forEachEntry(of: archive) { entry, parts throws(ContainerPathError) in
            guard !parts.isEmpty else { return }
            let existing = caisson_openat2(destination, parts.joined(separator: "/"), UInt64(O_NOFOLLOW), ContainerEngine.inRoot)
            guard existing >= 0 else { return }
            defer { close(existing) }
            var info = stat()
            guard fstatat(existing, "", &info, 0x1000 | AT_SYMLINK_NOFOLLOW) == 0 else { return }
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            if isDirectory != (entry.kind == .directory) {
                throw ContainerPathError.wouldReplace(existing: parts.joined(separator: "/"), entry: entry.path, directory: isDirectory)
            }
        }
    }

    /// Each entry of a tar archive on disk with its path's components (checked: no `..`
    /// climbing out); read errors become `ContainerPathError`s.
    private func forEachEntry(of archive: String,
                              _ body: (TarEntry, [Substring]) throws(ContainerPathError) -> Void) throws(ContainerPathError) {
        let fd = open(archive, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(SysError("open", path: archive)) }
        defer { close(fd) }
        var reader = TarReader(FileSource(fd: fd, path: archive))
        defer { reader.close() }
        do {
            while let entry = try reader.next() {
                try body(entry, try LayerApplier.components(of: entry.path))
            }
        } catch let error as ContainerPathError {
            throw error
        } catch let error as ArchiveError {
            throw .archive(error)
        } catch {
            throw .system(SysError("read", path: archive))
        }
    }

    /// `docker diff`: what the container's writable layer holds, against the image's layers.
    public func changes(_ record: ContainerRecord) throws(ContainerPathError) -> [ContainerChange] {
        let upper = images.upperDirectory(ofRootfs: record.id)
        guard Files.isDirectory(upper) else { throw .noRootfs(record.name) }
        let lowers = lowerDirectories(record)
        let stubs = mountPointStubs(record)
        var result: [ContainerChange] = []
        func walk(_ relative: String) {
            let names = ((try? Files.listDirectory(upper + relative)) ?? []).sorted()
            for name in names {
                let path = relative + "/" + name
                if stubs.contains(String(path.dropFirst())) { continue }
                guard let info = try? Files.lstatIfExists(upper + path) else { continue }
                if info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0 {
                    result.append(ContainerChange(kind: 2, path: path))
                    continue
                }
                if name.hasPrefix(".wh.") {
                    if name != ".wh..wh..opq" { result.append(ContainerChange(kind: 2, path: relative + "/" + name.dropFirst(4))) }
                    continue
                }
                let inLower = lowers.contains { ((try? Files.lstatIfExists($0 + path)) ?? nil) != nil }
                result.append(ContainerChange(kind: inLower ? 0 : 1, path: path))
                if info.st_mode & S_IFMT == S_IFDIR { walk(path) }
            }
        }
        walk("")
        return result.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    /// The image's layer directories, top first.
    func lowerDirectories(_ record: ContainerRecord) -> [String] {
        guard let image = try? images.list().first(where: { $0.id == record.imageID }),
              let config = try? images.config(of: image) else { return [] }
        return config.rootfs.diff_ids.reversed().map { images.snapshots.layerPath($0) }
    }

    /// Paths in the container's writable layer (relative, no leading slash) that are only
    /// mount points made when it started, for the engine's files (/etc/hosts, resolv.conf,
    /// hostname, `--init`), the kernel's filesystems, volumes, binds and tmpfs: absent from
    /// the image and empty, since what the container writes there goes to the mount.
    /// docker keeps its own in a layer of their own, so neither `diff` nor `commit` shows them.
    public func mountPointStubs(_ record: ContainerRecord) -> Set<String> {
        let upper = images.upperDirectory(ofRootfs: record.id)
        let destinations = ["/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/sbin/caisson-init", "/dev", "/proc", "/sys"]
            + record.config.mounts.map(\.destination)
        let lowers = lowerDirectories(record)
        var stubs = Set<String>()
        for destination in destinations {
            let relative = String(destination.drop { $0 == "/" })
            guard !relative.isEmpty, let info = (try? Files.lstatIfExists(upper + "/" + relative)) ?? nil else { continue }
            let empty: Bool
            switch info.st_mode & S_IFMT {
            case S_IFREG: empty = info.st_size == 0
            case S_IFDIR: empty = ((try? Files.listDirectory(upper + "/" + relative)) ?? []).isEmpty
            default: empty = false
            }
            guard empty, !lowers.contains(where: { ((try? Files.lstatIfExists($0 + "/" + relative)) ?? nil) != nil }) else { continue }
            stubs.insert(relative)
        }
        // A directory copied up only to hold stubs (/etc for /etc/hosts), unchanged from the
        // image's, is no change either.
        for stub in stubs {
            var parent = Paths.parent("/" + stub)
            while parent != "/" {
                let relative = String(parent.dropFirst())
                guard !stubs.contains(relative), copiedUpOnlyFor(relative, stubs: stubs, upper: upper, lowers: lowers) else { break }
                stubs.insert(relative)
                parent = Paths.parent(parent)
            }
        }
        return stubs
    }

    /// Whether the upper directory's `relative` holds nothing but `stubs` and has the
    /// owner and mode of the image's directory (the topmost layer that has it), not made
    /// opaque: overlayfs copied it up only to create the stubs in it.
    private func copiedUpOnlyFor(_ relative: String, stubs: Set<String>, upper: String, lowers: [String]) -> Bool {
        guard let info = (try? Files.lstatIfExists(upper + "/" + relative)) ?? nil, info.st_mode & S_IFMT == S_IFDIR,
              let names = try? Files.listDirectory(upper + "/" + relative),
              names.allSatisfy({ stubs.contains(relative + "/" + $0) }) else { return false }
        guard let lower = lowers.lazy.compactMap({ ((try? Files.lstatIfExists($0 + "/" + relative)) ?? nil) }).first,
              lower.st_mode == info.st_mode, lower.st_uid == info.st_uid, lower.st_gid == info.st_gid else { return false }
        for attribute in ["trusted.overlay.opaque", "user.overlay.opaque"] where getxattr(upper + "/" + relative, attribute, nil, 0) > 0 {
            return false
        }
        return true
    }
}
