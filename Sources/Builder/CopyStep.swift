#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import ImageSpec
import Images
import LayerArchive

/// A COPY from the build context, written straight into a new layer directory (no
/// container), with the Dockerfile reference's rules: a directory source copies its
/// contents; several sources (or a wildcard) need a destination ending in `/`; a file
/// lands at the destination, or inside it when it ends in `/` or is a directory in the
/// image; a relative destination is under WORKDIR. Files keep their mode and
/// modification time and belong to 0:0 unless `--chown` says otherwise; `--chmod` sets
/// the mode of everything copied. Directories the destination needs are created as the
/// image has them (or 0755 root), so the layer changes nothing but what was copied.
public struct CopyStep {
    public var sources: [String]
    public var destination: String
    /// `--chown`, already resolved to numbers.
    public var owner: (uid: UInt32, gid: UInt32)?
    /// `--chmod` (octal).
    public var mode: UInt32?
    public var createdBy: String
    public var timestamp: Int64?
    /// How the step's layer is compressed.
    public var compression: LayerCompression = .gzip
    /// ADD: local tar archives (plain, or compressed with gzip, zstd, bzip2 or xz) are
    /// unpacked into the destination.
    public var unpackArchives = false
    /// ADD of URLs: the downloaded files, placed like single local files under their
    /// names; unpacked only with `unpackDownloads` (ADD --unpack).
    var downloads: [RemoteSource.Download] = []
    var unpackDownloads = false

    public init(sources: [String], destination: String, createdBy: String) {
        self.sources = sources
        self.destination = destination
        self.createdBy = createdBy
    }

    public func run(on state: BuildState, context: BuildContext, images: ImageService) throws(BuildError) -> BuildState {
        guard images.snapshots.driver == .overlay else {
            throw .invalid("building needs the overlay snapshot driver (this store uses vfs)")
        }
        var matched: [String] = []
        for source in sources { matched += try context.sources(matching: source) }
        let wildcard = sources.contains { BuildContext.hasWildcard($0) }
        if matched.isEmpty && downloads.isEmpty { throw .invalid("\(createdBy): no source files were specified") }
        var target = destination
        if !target.hasPrefix("/") {
            let workdir = state.config.WorkingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
            target = (workdir.hasSuffix("/") ? workdir : workdir + "/") + target
        }
        let intoDirectory = target.hasSuffix("/")
        if (sources.count + downloads.count > 1 || (wildcard && matched.count > 1)) && !intoDirectory {
            throw .invalid("\(createdBy): when using COPY with more than one source file, the destination must be a directory and end with a /")
        }
        target = "/" + BuildContext.clean(target)
        if target == "/." { target = "/" }

        for layer in state.layers where !images.snapshots.hasLayer(layer.diffID) {
            do {
                try images.snapshots.unpack(blob: images.content.path(for: layer.descriptor.digest),
                                            mediaType: layer.descriptor.mediaType, diffID: layer.diffID)
            } catch {
                throw .image(error)
            }
        }
        let lower = LowerView(layers: state.layers.reversed().map { images.snapshots.layerPath($0.diffID) })
        target = lower.resolve(target)
        let upper = images.root + "/build/" + BuildLeftovers.name("copy")
        defer { try? Files.removeTree(upper) }
        do {
            try Files.makeDirectories(upper, mode: 0o755)
            var writer = CopyWriter(upper: upper, lower: lower, owner: owner, mode: mode)
            /// A single file: unpacked when it is an archive ADD unpacks, else placed at the
            /// destination (or inside it, when it is a directory).
            func place(_ path: String, name: String, unpack: Bool) throws {
                if unpack, let compression = try AddArchive.detect(path) {
                    try writer.ensureDirectory(target)
                    try AddArchive.unpack(path, compression, into: upper + (target == "/" ? "" : target))
                } else {
                    let file = intoDirectory || lower.isDirectory(target) || writer.madeDirectories.contains(target)
                        ? (target == "/" ? "" : target) + "/" + name : target
                    try writer.ensureDirectory(Paths.parent(file))
                    try writer.copyFile(path, to: file, following: true)
                }
            }
            for source in matched {
                guard let path = context.resolvedPath(of: source) else {
                    throw BuildError.invalid("\(createdBy): \(source) is a symlink that leads nowhere inside its root")
                }
                var info = stat()
                guard stat(path, &info) == 0 else { throw SysError("stat", path: path) }
                if info.st_mode & S_IFMT == S_IFDIR {
                    try writer.ensureDirectory(target)
                    try writer.copyContents(of: path, relative: source, context: context, into: target)
                } else {
                    try place(path, name: Paths.base(source), unpack: unpackArchives)
                }
            }
            for download in downloads {
                try place(download.path, name: download.name, unpack: unpackDownloads)
            }
            let layer = try images.commitLayer(upperDirectory: upper, compression: compression, timestamp: timestamp, adopt: true)
            return state.adding(layer, createdBy: createdBy,
                                created: timestamp.map { Clock.rfc3339(seconds: Int($0), nanoseconds: 0) } ?? Clock.rfc3339Now())
        } catch {
            throw .wrapping(error)
        }
    }
}

/// Writes copied files into a layer directory.
struct CopyWriter {
    let upper: String
    let lower: LowerView
    let owner: (uid: UInt32, gid: UInt32)?
    let mode: UInt32?
    private(set) var madeDirectories: Set<String> = []
    /// Files copied so far that have other hard links, by source inode: their other
    /// names are copied as links to the first, as BuildKit keeps hard links.
    private var linked: [String: String] = [:]

    init(upper: String, lower: LowerView, owner: (uid: UInt32, gid: UInt32)?, mode: UInt32?) {
        self.upper = upper
        self.lower = lower
        self.owner = owner
        self.mode = mode
    }

    /// Creates `path` (absolute in the image) and its parents in the layer: as the image
    /// has them where it does, else 0755 root.
    mutating func ensureDirectory(_ path: String) throws(SysError) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if madeDirectories.contains(current) { continue }
            let full = upper + current
            var info = stat()
            if lstat(full, &info) != 0 {
                if let existing = lower.entry(current), existing.st_mode & S_IFMT == S_IFDIR {
                    if mkdir(full, 0o700) != 0 { throw SysError("mkdir", path: full) }
                    _ = lchown(full, existing.st_uid, existing.st_gid)
                    _ = chmod(full, existing.st_mode & 0o7777)
                    var times = [existing.st_atim, existing.st_mtim]
                    _ = utimensat(AT_FDCWD, full, &times, 0)
                } else {
                    // New directories belong to the copy's owner (--chown, WORKDIR's user), as
                    // BuildKit and buildah create them.
                    if mkdir(full, 0o755) != 0 { throw SysError("mkdir", path: full) }
                    _ = chmod(full, 0o755)
                    if let owner { _ = lchown(full, owner.uid, owner.gid) }
                }
            }
            madeDirectories.insert(current)
        }
    }

    /// Copies the contents of a context directory into `target`, skipping ignored paths.
    mutating func copyContents(of directory: String, relative: String, context: BuildContext, into target: String) throws(SysError) {
        for name in try Files.listDirectory(directory).sorted() {
            let childRelative = relative == "." ? name : relative + "/" + name
            if context.skips(childRelative) { continue }
            let source = directory + "/" + name
            let destination = (target == "/" ? "" : target) + "/" + name
            var info = stat()
            guard lstat(source, &info) == 0 else { throw SysError("stat", path: source) }
            if info.st_mode & S_IFMT == S_IFDIR {
                let full = upper + destination
                if mkdir(full, 0o700) != 0 && errno != EEXIST { throw SysError("mkdir", path: full) }
                madeDirectories.insert(destination)
                try copyContents(of: source, relative: childRelative, context: context, into: destination)
                try apply(info, to: full, isDirectory: true)
                CopyWriter.copyAttributes(from: source, to: full, following: false)
            } else {
                try copyFile(source, to: destination, following: false)
            }
        }
    }

    /// Copies one file, symlink or special file to `destination` (absolute in the image).
    mutating func copyFile(_ source: String, to destination: String, following: Bool) throws(SysError) {
        let full = upper + destination
        var info = stat()
        guard (following ? stat(source, &info) : lstat(source, &info)) == 0 else { throw SysError("stat", path: source) }
        unlink(full)
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            let inode = "\(info.st_dev):\(info.st_ino)"
            if info.st_nlink > 1, let first = linked[inode] {
                if link(first, full) != 0 { throw SysError("link", path: full) }
                return
            }
            if info.st_nlink > 1 { linked[inode] = full }
            let input = open(source, O_RDONLY | O_CLOEXEC | (following ? 0 : O_NOFOLLOW))
            if input < 0 { throw SysError("open", path: source) }
            defer { close(input) }
            let output = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if output < 0 { throw SysError("create", path: full) }
            defer { close(output) }
            var buffer = [UInt8](repeating: 0, count: 1 << 17)
            while true {
                let count = read(input, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count < 0 { throw SysError("read", path: source) }
                if count == 0 { break }
                try Files.writeAll(fd: output, bytes: Array(buffer[0..<count]), path: full)
            }
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(source, &buffer, Int(PATH_MAX))
            if count < 0 { throw SysError("readlink", path: source) }
            buffer[count] = 0
            if symlink(buffer, full) != 0 { throw SysError("symlink", path: full) }
        case S_IFIFO:
            if mkfifo(full, 0o600) != 0 { throw SysError("mkfifo", path: full) }
        default:
            return  // devices and sockets in a build context are not copied
        }
        try apply(info, to: full, isDirectory: false)
        CopyWriter.copyAttributes(from: source, to: full, following: following)
    }

    /// Owner, mode and modification time of a copied entry.
    func apply(_ info: stat, to path: String, isDirectory: Bool) throws(SysError) {
        let uid = owner?.uid ?? 0
        let gid = owner?.gid ?? 0
        if lchown(path, uid, gid) != 0 { throw SysError("chown", path: path) }
        let isLink = info.st_mode & S_IFMT == S_IFLNK
        if !isLink {
            let bits = mode ?? UInt32(info.st_mode & 0o7777)
            if chmod(path, bits) != 0 { throw SysError("chmod", path: path) }
        }
        var times = [info.st_atim, info.st_mtim]
        _ = utimensat(AT_FDCWD, path, &times, 0x100 /* AT_SYMLINK_NOFOLLOW */)
    }
}
