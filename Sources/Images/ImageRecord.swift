#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import ImageSpec

/// One image on this machine: its identity (the config digest, as docker's image ids are),
/// the manifest that was pulled or built, and the names that point at it.
public struct ImageRecord: Codable, Sendable, Equatable {
    /// Config digest.
    public var id: Digest
    public var manifest: Digest
    public var manifestMediaType: String
    /// The index or manifest list it was chosen from, if any.
    public var index: Digest?
    /// Normalised `registry/repository:tag` names.
    public var repoTags: [String]
    /// `registry/repository@digest` names (the digest of what the registry serves).
    public var repoDigests: [String]
    /// When the image was created (from its config), RFC 3339.
    public var created: String?
    /// When it arrived here.
    public var added: String
    /// Sum of the compressed layers and the config.
    public var size: Int64
    public var platform: String
}

/// The list of images, in one JSON file rewritten atomically under an flock, so that
/// several `caisson` processes can pull, tag and remove at once without losing updates.
public struct ImageIndexFile: Sendable {
    public let path: String
    private let lockPath: String

    struct Document: Codable {
        var images: [ImageRecord]
    }

    public init(root: String) {
        path = root + "/images.json"
        lockPath = root + "/images.lock"
    }

    public func load() throws(ImageError) -> [ImageRecord] {
        guard Files.exists(path) else { return [] }
        do {
            let bytes = try Files.readBytes(path)
            return try JSONDecoding.decode(Document.self, from: bytes).images
        } catch let error as SysError {
            throw .system(error)
        } catch {
            throw .invalid("image index \(path) is damaged: \(error)")
        }
    }

    /// Runs `change` on the list under an exclusive lock and writes the result.
    @discardableResult
    public func update<T>(_ change: (inout [ImageRecord]) throws(ImageError) -> T) throws(ImageError) -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw .system(SysError("open", path: lockPath)) }
        defer { close(fd) }
        if retryingOnInterrupt({ flock(fd, LOCK_EX) }) != 0 { throw .system(SysError("flock", path: lockPath)) }
        var images = try load()
        let result = try change(&images)
        do {
            let bytes = try JSONEncoding.encode(Document(images: images), pretty: true)
            try Files.writeAtomically(path, bytes: bytes, mode: 0o600)
        } catch let error as SysError {
            throw .system(error)
        } catch {
            throw .invalid("cannot encode the image index: \(error)")
        }
        return result
    }
}

/// A container that uses an image, as `rmi`'s conflicts name it: a running one if there
/// is any, else a stopped one.
public struct ImageUser: Sendable, Equatable {
    public let containerID: String
    public let running: Bool

    public init(containerID: String, running: Bool) {
        self.containerID = containerID
        self.running = running
    }

    public var shortID: String { String(containerID.prefix(12)) }
}
