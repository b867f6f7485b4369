#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import ImageSpec

/// Why the content store refused or failed an operation.
public enum ContentStoreError: Error, CustomStringConvertible, Sendable {
    case digestMismatch(expected: Digest, actual: Digest)
    case sizeMismatch(digest: Digest, expected: Int64, actual: Int64)
    case tooLarge(digest: Digest, expected: Int64)
    case notFound(Digest)
    case system(SysError)

    public var description: String {
        switch self {
        case .digestMismatch(let expected, let actual):
            return "content digest mismatch: expected \(expected), got \(actual); the blob was not stored"
        case .sizeMismatch(let digest, let expected, let actual):
            return "content size mismatch for \(digest): expected \(expected) bytes, got \(actual); the blob was not stored"
        case .tooLarge(let digest, let expected):
            return "content for \(digest) is longer than the \(expected) bytes its descriptor gives"
        case .notFound(let digest):
            return "content \(digest) is not in the store"
        case .system(let error):
            return error.description
        }
    }
}

/// Blobs by digest under `ROOT/blobs/sha256/<hex>`. Content is ingested into
/// `ROOT/ingest/`, and committed (fsync, rename, made read-only) only once its size and
/// digest are verified, so a blob that is in the store is always the blob its name says.
/// Interrupted ingests are kept and resumed; several processes may use one store (each
/// ingest holds an flock on its partial file).
public struct ContentStore: Sendable {
    public let root: String

    public init(root: String) throws(ContentStoreError) {
        self.root = root
        do {
            try Files.makeDirectories(root + "/blobs/sha256", mode: 0o700)
            try Files.makeDirectories(root + "/ingest", mode: 0o700)
        } catch {
            throw .system(error)
        }
    }

    public func path(for digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
    }

    public func contains(_ digest: Digest) -> Bool {
        Files.exists(path(for: digest))
    }

    /// Size of a stored blob, or nil.
    public func size(of digest: Digest) -> Int64? {
        var info = stat()
        return stat(path(for: digest), &info) == 0 ? Int64(info.st_size) : nil
    }

    /// Reads a (small) blob and checks it against its digest again: manifests and configs
    /// are read through here, so on-disk corruption cannot pass as an image document.
    public func read(_ digest: Digest) throws(ContentStoreError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try Files.readBytes(path(for: digest))
        } catch {
            if error.errno == ENOENT { throw .notFound(digest) }
            throw .system(error)
        }
        var hasher = DigestHasher(digest.algorithm)
        hasher.update(bytes)
        let actual = hasher.finalize()
        guard actual == digest else { throw .digestMismatch(expected: digest, actual: actual) }
        return bytes
    }

    /// Stores bytes held in memory; verifies them when an expected digest is given.
    @discardableResult
    public func write(_ bytes: [UInt8], expected: Digest? = nil) throws(ContentStoreError) -> Digest {
        let digest = expected ?? Digest.sha256(of: bytes)
        if contains(digest) { return digest }
        let ingest = try beginIngest(digest: digest, size: Int64(bytes.count), resume: false)
        do {
            try bytes.withUnsafeBytes { buffer in try ingest.write(buffer) }
            try ingest.commit()
        } catch let error as ContentStoreError {
            ingest.abort()
            throw error
        } catch {
            ingest.abort()
            throw .system(SysError("write", path: path(for: digest), errno: EIO))
        }
        return digest
    }

    /// Opens (or resumes) the ingest of one blob. When the blob is already stored the
    /// returned ingest is `complete` and needs no data.
    public func beginIngest(digest: Digest, size: Int64, resume: Bool = true) throws(ContentStoreError) -> Ingest {
        try Ingest(store: self, digest: digest, expectedSize: size, resume: resume)
    }

    /// Every stored blob.
    public func list() throws(ContentStoreError) -> [Digest] {
        var result: [Digest] = []
        for algorithm in ["sha256", "sha512"] {
            let directory = "\(root)/blobs/\(algorithm)"
            guard Files.isDirectory(directory) else { continue }
            let names: [String]
            do { names = try Files.listDirectory(directory) } catch { throw .system(error) }
            for name in names {
                if let digest = try? Digest(parsing: "\(algorithm):\(name)") { result.append(digest) }
            }
        }
        return result
    }

    public func delete(_ digest: Digest) throws(ContentStoreError) {
        if unlink(path(for: digest)) != 0 && errno != ENOENT { throw .system(SysError("unlink", path: path(for: digest))) }
    }

    /// Removes every blob not in `keep`, and abandoned ingests; returns what was removed
    /// and how many bytes that freed.
    public func garbageCollect(keep: Set<Digest>) throws(ContentStoreError) -> (removed: [Digest], bytes: Int64) {
        var removed: [Digest] = []
        var bytes: Int64 = 0
        for digest in try list() where !keep.contains(digest) {
            bytes += size(of: digest) ?? 0
            try delete(digest)
            removed.append(digest)
        }
        // Partial ingests nobody holds a lock on are abandoned pulls.
        if let names = try? Files.listDirectory(root + "/ingest") {
            for name in names {
                let partial = root + "/ingest/" + name
                let fd = open(partial, O_RDWR | O_CLOEXEC)
                guard fd >= 0 else { continue }
                if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlink(partial) }
                close(fd)
            }
        }
        return (removed, bytes)
    }
}

/// One blob being written into the store: append bytes, then `commit` verifies and
/// publishes it, or `abort` discards it. Resuming re-hashes what an earlier attempt wrote.
public final class Ingest {
    public let digest: Digest
    public let expectedSize: Int64
    /// Bytes already present (a resumed ingest starts here).
    public private(set) var offset: Int64 = 0
    /// True when the blob was already in the store: nothing to write, commit is a no-op.
    public let complete: Bool
    private let store: ContentStore
    private let partialPath: String
    private var fd: Int32 = -1
    private var hasher: DigestHasher

    init(store: ContentStore, digest: Digest, expectedSize: Int64, resume: Bool) throws(ContentStoreError) {
        self.store = store
        self.digest = digest
        self.expectedSize = expectedSize
        self.partialPath = "\(store.root)/ingest/\(digest.algorithm.rawValue)-\(digest.encoded)"
        self.hasher = DigestHasher(digest.algorithm)
        if store.contains(digest) {
            complete = true
            return
        }
        let partial = partialPath
        let opened = open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if opened < 0 { throw .system(SysError("open", path: partial)) }
        // Another process ingesting the same blob: wait for it, then see if it finished.
        if retryingOnInterrupt({ flock(opened, LOCK_EX) }) != 0 {
            let error = SysError("flock", path: partial)
            close(opened)
            throw .system(error)
        }
        if store.contains(digest) {
            close(opened)
            complete = true
            return
        }
        fd = opened
        complete = false
        if resume {
            try rehashExisting()
        } else if ftruncate(fd, 0) != 0 {
            throw .system(SysError("ftruncate", path: partialPath))
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    private func rehashExisting() throws(ContentStoreError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(SysError("read", path: partialPath))
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += Int64(n)
        }
        if offset > expectedSize {
            // Cannot be this blob's prefix: start again.
            if ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) < 0 { throw .system(SysError("ftruncate", path: partialPath)) }
            offset = 0
            hasher = DigestHasher(digest.algorithm)
        }
    }

    /// Discards what was written so far (the server did not honour a range request).
    public func restart() throws(ContentStoreError) {
        guard !complete else { return }
        if ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) < 0 { throw .system(SysError("ftruncate", path: partialPath)) }
        offset = 0
        hasher = DigestHasher(digest.algorithm)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ContentStoreError) {
        guard !complete, bytes.count > 0 else { return }
        if offset + Int64(bytes.count) > expectedSize {
            throw .tooLarge(digest: digest, expected: expectedSize)
        }
        hasher.update(bytes)
        do { try Files.writeAll(fd: fd, buffer: bytes, path: partialPath) } catch { throw .system(error) }
        offset += Int64(bytes.count)
    }

    /// Verifies size and digest; on success the blob is fsynced, renamed into place and
    /// made read-only. On a mismatch the partial data is discarded and nothing is stored.
    public func commit() throws(ContentStoreError) {
        guard !complete else { return }
        guard offset == expectedSize else {
            let actual = offset
            abort()
            throw .sizeMismatch(digest: digest, expected: expectedSize, actual: actual)
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            abort()
            throw .digestMismatch(expected: digest, actual: actual)
        }
        let target = store.path(for: digest)
        if fchmod(fd, 0o444) != 0 || fsync(fd) != 0 { throw .system(SysError("fsync", path: partialPath)) }
        if rename(partialPath, target) != 0 { throw .system(SysError("rename", path: target)) }
        close(fd)
        fd = -1
    }

    /// Removes the partial data.
    public func abort() {
        guard fd >= 0 else { return }
        unlink(partialPath)
        close(fd)
        fd = -1
    }

    /// Keeps the partial data for a later resume and releases the lock.
    public func suspend() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }
}
