#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Images

/// A build context that comes as a tar archive (`caisson build -`, the body of the Docker
/// API's `POST /build`): plain, or compressed with gzip, zstd, bzip2 or xz as its first
/// bytes say, unpacked (contained, as layers are) into a scratch directory of the store's
/// build area that `BuildLeftovers` sweeps if this process dies first.
public enum BuildContextArchive {
    /// Unpacks the archive at `path`; returns the directory, which the caller removes.
    public static func unpack(_ path: String, images: ImageService) throws(BuildError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(SysError("open", path: path)) }
        let compression = AddArchive.compression(of: fd)
        close(fd)
        if let tool = compression.tool, Decompressor.locate(tool) == nil { throw Decompressor.missing(tool, path: path) }
        let staging = images.root + "/build/" + BuildLeftovers.name("context")
        do { try Files.makeDirectories(staging, mode: 0o700) } catch { throw .system(error) }
        do {
            try AddArchive.unpack(path, compression, into: staging)
        } catch {
            try? Files.removeTree(staging)
            throw .invalid("the build context is not a readable tar archive: \(error)")
        }
        return staging
    }
}
