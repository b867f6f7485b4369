#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

extension ContainerEngine {
    /// A named volume, created on first use (`-v NAME:/path` or `volume create`).
    @discardableResult
    public func ensureVolume(_ name: String, labels: [String: String] = [:]) throws(EngineError) -> VolumeRecord {
        guard ContainerEngine.isValidName(name) else {
            throw .invalid("\"\(name)\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed")
        }
        let mountpoint = options.root + "/volumes/" + name + "/_data"
        let record = VolumeRecord(name: name, driver: "local", mountpoint: mountpoint, created: Clock.rfc3339Now(), labels: labels)
        do { try Files.makeDirectories(mountpoint, mode: 0o755) } catch { throw .system(error) }
        return try store.ensureVolume(record).0
    }

    public func volume(named name: String) throws(EngineError) -> VolumeRecord {
        guard let found = try store.volumes().first(where: { $0.name == name }) else { throw .noSuchVolume(name) }
        return found
    }

    func volumeInUse(_ name: String) throws(EngineError) -> Bool {
        try store.containers().contains { $0.config.mounts.contains { $0.kind == .volume && $0.source == name } }
    }

    public func removeVolume(_ name: String, force: Bool) throws(EngineError) {
        let volume = try volume(named: name)
        if try volumeInUse(name) { throw .volumeInUse(name) }
        try store.deleteVolume(name)
        try? Files.removeTree(Paths.parent(volume.mountpoint))
    }

    /// Removes every volume no container uses; returns their names and the bytes freed.
    public func pruneVolumes() throws(EngineError) -> (removed: [String], bytes: Int64) {
        var removed: [String] = []
        var bytes: Int64 = 0
        for volume in try store.volumes() where !(try volumeInUse(volume.name)) {
            bytes += ContainerEngine.diskUsage(volume.mountpoint)
            try removeVolume(volume.name, force: false)
            removed.append(volume.name)
        }
        return (removed, bytes)
    }

    public static func diskUsageOf(_ path: String) -> Int64 { diskUsage(path) }

    /// Bytes under a directory (not following symlinks).
    static func diskUsage(_ path: String) -> Int64 {
        guard let info = try? Files.lstatIfExists(path) else { return 0 }
        if (info.st_mode & S_IFMT) != S_IFDIR { return Int64(info.st_size) }
        var total: Int64 = 0
        for name in (try? Files.listDirectory(path)) ?? [] { total += diskUsage(path + "/" + name) }
        return total
    }
}
