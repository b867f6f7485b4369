#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import OCISpec

/// What the runtime remembers about a container between commands, kept in
/// ROOT/ID/state.json. The config is stored so that delete can run poststop hooks and
/// find the cgroup even if the bundle is gone.
public struct ContainerRecord: Codable, Sendable {
    public var id: String
    public var pid: Int32
    /// Start time of the init process in clock ticks: detects pid reuse.
    public var pidStartTime: UInt64
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var config: Spec
}

/// The directory tree under `--root` (default /run/caisson): one directory per container
/// holding state.json and, until `start`, the exec.fifo that holds the init process back.
public struct StateStore {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public func directory(of id: String) -> String { root + "/" + id }
    public func fifoPath(of id: String) -> String { directory(of: id) + "/exec.fifo" }

    /// Container ids are directory names: refuse anything that could escape the root.
    public static func validate(id: String) throws(RuntimeError) {
        guard !id.isEmpty, id.count <= 1024, id != ".", id != "..",
              id.allSatisfy({ $0.isLetter || $0.isNumber || "_+-.".contains($0) }),
              id.unicodeScalars.allSatisfy({ $0.isASCII }) else {
            throw .invalidID(id)
        }
    }

    /// Creates the container's directory; fails if the id is taken.
    public func reserve(id: String) throws(RuntimeError) {
        do {
            try Files.makeDirectories(root, mode: 0o711)
        } catch {
            throw .system(error)
        }
        if mkdir(directory(of: id), 0o711) != 0 {
            if errno == EEXIST { throw .containerExists(id) }
            throw .system(SysError("mkdir", path: directory(of: id)))
        }
    }

    public func save(_ record: ContainerRecord) throws(RuntimeError) {
        do {
            try Files.writeAtomically(directory(of: record.id) + "/state.json", bytes: SpecJSON.encode(record))
        } catch {
            throw .system(error)
        }
    }

    public func load(id: String) throws(RuntimeError) -> ContainerRecord {
        try StateStore.validate(id: id)
        let path = directory(of: id) + "/state.json"
        let bytes: [UInt8]
        do {
            bytes = try Files.readBytes(path)
        } catch {
            if error.errno == ENOENT { throw .containerNotFound(id) }
            throw .system(error)
        }
        do {
            return try SpecJSON.decode(ContainerRecord.self, from: bytes, file: path)
        } catch {
            throw .config(error)
        }
    }

    public func remove(id: String) {
        try? Files.removeTree(directory(of: id))
    }

    /// Ids of every container with a state directory.
    public func ids() -> [String] {
        ((try? Files.listDirectory(root)) ?? []).filter { Files.exists(directory(of: $0) + "/state.json") }.sorted()
    }

    /// Runs `body` holding an exclusive lock on the container's directory, so two
    /// commands racing on one container take turns.
    public func withLock<T>(id: String, _ body: () throws(RuntimeError) -> T) throws(RuntimeError) -> T {
        let fd = open(directory(of: id), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { throw .containerNotFound(id) }
            throw .system(SysError("open", path: directory(of: id)))
        }
        defer { close(fd) }
        _ = retryingOnInterrupt { flock(fd, LOCK_EX) }
        return try body()
    }
}
