#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import ImageSpec

/// A request body written to a file as it arrives (tar streams of any size: build
/// contexts, image archives, archive uploads), in the server's spool directory.
final class BodySpool {
    let path: String
    private var fd: Int32

    init(directory: String) throws(SysError) {
        path = directory + "/body-" + Hex.encode(Files.randomBytes(8))
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SysError("open", path: path) }
    }

    func append(_ bytes: ArraySlice<UInt8>) throws(SysError) {
        try Files.writeAll(fd: fd, bytes: Array(bytes))
    }

    func finish() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { finish() }
}
