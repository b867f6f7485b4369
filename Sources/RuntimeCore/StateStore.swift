#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import OCISpec

/// What the runtime remembers about a container between commands: ROOT/ID/state.json,
/// and beside it ROOT/ID/config.json, a copy of the bundle's config as it was at create
/// (so delete can run poststop hooks and find the cgroup even if the bundle is gone).
/// The config is copied as bytes, not re-encoded, which keeps create fast.
public struct ContainerRecord: Sendable {
    public var id: String
    public var pid: Int32
    /// Start time of the init process in clock ticks: detects pid reuse.
    public var pidStartTime: UInt64
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var config: Spec

    public init(id: String, pid: Int32, pidStartTime: UInt64, bundle: String, rootfs: String, created: String,
                owner: String, config: Spec) {
        self.id = id
        self.pid = pid
        self.pidStartTime = pidStartTime
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.config = config
    }

    /// state.json, written and read directly (this is on every command's path, and
    /// Codable's generic machinery would cost about a megabyte of resident code).
    var stateJSON: [UInt8] {
        var object = JSONObject()
        object.set("id", .string(id))
        object.set("pid", .number(String(pid)))
        object.set("pidStartTime", .number(String(pidStartTime)))
        object.set("bundle", .string(bundle))
        object.set("rootfs", .string(rootfs))
        object.set("created", .string(created))
        object.set("owner", .string(owner))
        return JSONEncoding.serialize(.object(object))
    }

    init(stateJSON bytes: [UInt8], file: String) throws(ConfigError) {
        self = try JSONFields.read(bytes, file: file) { (fields) throws(ConfigError) in
            ContainerRecord(id: try fields.string("id"), pid: try fields.integer("pid"),
                            pidStartTime: try fields.integer("pidStartTime"), bundle: try fields.string("bundle"),
                            rootfs: try fields.string("rootfs"), created: try fields.string("created"),
                            owner: try fields.string("owner"), config: Spec())
        }
    }
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
        func allowed(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: ".")
        }
        guard !id.isEmpty, id.utf8.count <= 1024, id != ".", id != "..", id.utf8.allSatisfy(allowed) else {
            throw .invalidID(id)
        }
    }

    /// Creates the container's directory; fails if the id is taken.
    /// Makes ROOT/ID (a taken id fails here) and writes the config copy into it, holding
    /// the directory's lock until the caller closes the returned descriptor: a `delete`
    /// meanwhile waits, and one that finds the lock free and no state.json knows the
    /// create died (see `Runtime.delete`).
    public func reserve(id: String, configBytes: [UInt8]) throws(RuntimeError) -> Int32 {
        do {
            try Files.makeDirectories(root, mode: 0o711)
        } catch {
            throw .system(error)
        }
        let path = directory(of: id)
        if mkdir(path, 0o711) != 0 {
            if errno == EEXIST { throw .containerExists(id) }
            throw .system(SysError("mkdir", path: path))
        }
        let lock = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if lock < 0 {
            let error = SysError("open", path: path)
            remove(id: id)
            throw .system(error)
        }
        _ = retryingOnInterrupt { flock(lock, LOCK_EX) }
        do {
            try Files.writeAtomically(path + "/config.json", bytes: configBytes)
        } catch {
            close(lock)
            remove(id: id)
            throw .system(error)
        }
        return lock
    }

    /// Writes state.json alone (the config copy was written at `reserve`).
    public func saveState(_ record: ContainerRecord) throws(RuntimeError) {
        do {
            try Files.writeAtomically(directory(of: record.id) + "/state.json", bytes: record.stateJSON)
        } catch {
            throw .system(error)
        }
    }

    /// A directory whose create died before saving its state: no state.json (checked
    /// under the lock, so a create still running is waited for).
    public func isAbandoned(id: String) -> Bool {
        (try? withLock(id: id) { () throws(RuntimeError) in !Files.exists(directory(of: id) + "/state.json") }) ?? false
    }

    /// Writes state.json and, with `configBytes` (the bundle's config.json as read) or
    /// else by encoding `record.config`, the config copy.
    public func save(_ record: ContainerRecord, configBytes: [UInt8]? = nil) throws(RuntimeError) {
        do {
            let directory = directory(of: record.id)
            try Files.writeAtomically(directory + "/config.json", bytes: configBytes ?? SpecJSON.encode(record.config))
            try Files.writeAtomically(directory + "/state.json", bytes: record.stateJSON)
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
        var record: ContainerRecord
        do {
            record = try ContainerRecord(stateJSON: bytes, file: path)
        } catch {
            throw .config(error)
        }
        let configPath = directory(of: id) + "/config.json"
        do {
            record.config = try SpecJSON.decodeSpec(try Files.readBytes(configPath), file: configPath)
        } catch let error as ConfigError {
            throw .config(error)
        } catch {
            throw .config(ConfigError(file: configPath, "\(error)"))
        }
        return record
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
