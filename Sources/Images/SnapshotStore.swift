#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import ContentStore
import ImageSpec
import LayerArchive

/// Unpacked layers, each once, shared by every image and container that uses it.
///
/// With the `overlay` driver every layer is unpacked on its own into
/// `snapshots/layers/<diff id>/fs`, whiteouts kept in overlayfs' form, and a container's
/// root filesystem is an overlay of those directories under a fresh upper directory.
/// With the `vfs` driver (no overlayfs) a container's root filesystem is a plain copy:
/// the layers are applied in order into its own directory.
public struct SnapshotStore: Sendable {
    public enum Driver: String, Sendable {
        case overlay, vfs
    }

    public let root: String
    public let driver: Driver

    public init(root: String, driver: Driver) throws(ImageError) {
        self.root = root
        self.driver = driver
        do {
            try Files.makeDirectories(root + "/layers", mode: 0o700)
            try Files.makeDirectories(root + "/tmp", mode: 0o700)
        } catch {
            throw .system(error)
        }
    }

    /// overlay when the kernel has it, else vfs.
    public static func detectDriver() -> Driver {
        guard let filesystems = try? Files.readString("/proc/filesystems") else { return .vfs }
        return filesystems.split(separator: "\n").contains { $0.hasSuffix("\toverlay") } ? .overlay : .vfs
    }

    public func layerPath(_ diffID: Digest) -> String { "\(root)/layers/\(diffID.encoded)/fs" }

    public func hasLayer(_ diffID: Digest) -> Bool { Files.isDirectory(layerPath(diffID)) }

    /// An unpacked layer's size as dockerd counts it (`TreeSize`), recorded when it was
    /// unpacked (measured now, and recorded, for a layer unpacked before sizes were kept);
    /// nil when the layer is not unpacked (the vfs driver unpacks none).
    public func layerSize(_ diffID: Digest) -> Int64? {
        let file = "\(root)/layers/\(diffID.encoded)/size"
        if let text = try? Files.readString(file), let size = Int64(text) { return size }
        guard hasLayer(diffID) else { return nil }
        let size = TreeSize.of(layerPath(diffID))
        let staging = file + ".\(getpid())"
        if (try? Files.write(staging, String(size))) != nil, rename(staging, file) != 0 { unlink(staging) }
        return size
    }

    /// Unpacks a layer blob once (concurrent callers wait on a lock), checking the digest
    /// of its uncompressed stream against the image config's diff id.
    public func unpack(blob: String, mediaType: String, diffID: Digest) throws(ImageError) {
        guard driver == .overlay, !hasLayer(diffID) else { return }
        let lockPath = "\(root)/tmp/\(diffID.encoded).lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if lock < 0 { throw .system(SysError("open", path: lockPath)) }
        defer { close(lock) }
        if retryingOnInterrupt({ flock(lock, LOCK_EX) }) != 0 { throw .system(SysError("flock", path: lockPath)) }
        if hasLayer(diffID) { return }
        let staging = "\(root)/tmp/\(diffID.encoded).\(getpid())"
        try? Files.removeTree(staging)
        do {
            try Files.makeDirectories(staging + "/fs", mode: 0o755)
            try SnapshotStore.apply(blob: blob, mediaType: mediaType, diffID: diffID, into: staging + "/fs", mode: .overlay)
            try Files.write(staging + "/size", String(TreeSize.of(staging + "/fs")))
            let final = "\(root)/layers/\(diffID.encoded)"
            if rename(staging, final) != 0 { throw ImageError.system(SysError("rename", path: final)) }
        } catch {
            try? Files.removeTree(staging)
            throw ImageError.wrapping(error)
        }
    }

    /// Applies one layer blob to a directory and verifies its diff id.
    static func apply(blob: String, mediaType: String?, diffID: Digest?, into directory: String,
                      mode: LayerApplier.WhiteoutMode) throws(ImageError) {
        let fd = open(blob, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .system(SysError("open", path: blob)) }
        defer { close(fd) }
        do {
            let compression = try mediaType.map { (type) throws(ImageSpecError) in try LayerCompression(mediaType: type) }
                ?? detectCompression(fd: fd)
            let file = FileSource(fd: fd, path: blob)
            let hashed = DigestingSource(try decompressing(file, compression))
            var reader = TarReader(hashed)
            defer { reader.close() }
            let applier = try LayerApplier(root: directory, mode: mode)
            _ = try applier.apply(&reader)
            var rest = reader.takeSource()
            let actual = try rest.drainAndFinalize()
            if let diffID, actual != diffID {
                throw ImageError.invalid("layer \(Paths.base(blob).prefix(12)) unpacks to \(actual), but the image config says \(diffID)")
            }
        } catch {
            throw ImageError.wrapping(error)
        }
    }

    /// Every unpacked layer.
    public func layers() -> [Digest] {
        ((try? Files.listDirectory(root + "/layers")) ?? []).compactMap { try? Digest(parsing: "sha256:" + $0) }
    }

    public func remove(_ diffID: Digest) throws(ImageError) {
        let directory = "\(root)/layers/\(diffID.encoded)"
        let doomed = "\(root)/tmp/removing-\(diffID.encoded).\(getpid())"
        guard rename(directory, doomed) == 0 else {
            if errno == ENOENT { return }
            throw .system(SysError("rename", path: directory))
        }
        do { try Files.removeTree(doomed) } catch { throw .system(error) }
    }
}
