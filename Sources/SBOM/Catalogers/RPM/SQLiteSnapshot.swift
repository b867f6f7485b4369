#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// How an SQLite database inside an image is opened without writing beside it: its
/// own file as an `immutable` URI (no locks, no `-shm`/`-wal` created), or, when the
/// view has no file on this machine or a non-empty write-ahead log sits beside it, a
/// copy of both in a temporary directory that `remove()` deletes.
struct SQLiteSnapshot {
    /// What to hand to SQLite (a `file:` URI or a plain path).
    let openPath: String
    private let temporaryDirectory: String?

    init(files: any ImageFiles, path: String, cataloger: String) throws(CatalogProblem) {
        let walPath = path + "-wal"
        let walHasContent = (files.read(walPath, offset: 0, count: 1)?.count ?? 0) > 0
        if let host = files.hostPath(path), !walHasContent {
            openPath = "file:" + SQLiteSnapshot.uriEscaped(host) + "?immutable=1"
            temporaryDirectory = nil
            return
        }
        var template = Array((SQLiteSnapshot.temporaryRoot + "/caisson-sbom-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CatalogProblem(cataloger: cataloger, path: path, reason: "cannot make a temporary copy: \(SysError("mkdtemp", path: SQLiteSnapshot.temporaryRoot))")
        }
        let directory = String(cString: made)
        temporaryDirectory = directory
        openPath = directory + "/db.sqlite"
        do {
            for (source, target) in [(path, openPath), (walPath, openPath + "-wal")] {
                guard let bytes = files.contents(source, limit: Int.max) else {
                    if source == path { throw SysError("read", path: path, errno: ENOENT) }
                    continue
                }
                try Files.write(target, bytes: bytes, mode: 0o600)
            }
        } catch {
            remove()
            throw CatalogProblem(cataloger: cataloger, path: path, reason: "cannot make a temporary copy: \(error)")
        }
    }

    func remove() {
        if let temporaryDirectory { try? Files.removeTree(temporaryDirectory) }
    }

    private static var temporaryRoot: String {
        guard let value = getenv("TMPDIR"), value.pointee != 0 else { return "/tmp" }
        return String(cString: value)
    }

    /// Escapes the characters a `file:` URI's path cannot hold as they are.
    static func uriEscaped(_ path: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "#"), 0...0x20, 0x7F...0xFF:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
