#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import LayerArchive

extension ContainerEngine {
    /// A named volume, created on first use (`-v NAME:/path` or `volume create`).
    @discardableResult
    public func ensureVolume(_ name: String, labels: [String: String] = [:]) throws(EngineError) -> VolumeRecord {
        try ensureVolumeReportingCreation(name, labels: labels).volume
    }

    /// As `ensureVolume`, saying whether this call created it (a new volume is filled
    /// from the image, as docker does).
    func ensureVolumeReportingCreation(_ name: String, labels: [String: String] = [:]) throws(EngineError) -> (volume: VolumeRecord, created: Bool) {
        guard ContainerEngine.isValidName(name) else {
            throw .invalid("\"\(name)\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed")
        }
        let mountpoint = options.root + "/volumes/" + name + "/_data"
        let record = VolumeRecord(name: name, driver: "local", mountpoint: mountpoint, created: Clock.rfc3339Now(), labels: labels)
        do { try Files.makeDirectories(mountpoint, mode: 0o755) } catch { throw .system(error) }
        let result = try store.ensureVolume(record)
        if result.created { events.record(type: "volume", action: "create", id: name, attributes: ["driver": "local"]) }
        return (result.0, result.created)
    }

    /// Copies what the image has at `path` into a new, empty volume, never leaving the
    /// image's root filesystem (the walk does not follow symlinks) nor the volume.
    func seedVolume(_ volume: VolumeRecord, fromRootfs rootfs: String, path: String) {
        let rootFD = open(rootfs, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return }
        defer { close(rootFD) }
        let relative = String(path.drop(while: { $0 == "/" }))
        let start = caisson_openat2(rootFD, relative, UInt64(O_DIRECTORY), 0x10 | 0x02)
        guard start >= 0 else { return }
        defer { close(start) }
        let archive = volume.mountpoint + "/../seed.tar"
        defer { unlink(archive) }
        let fd = open(archive, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        do {
            var writer = TarWriter(FileSink(fd: fd, path: archive))
            var archiver = TreeArchiver()
            try archiver.archive(fd: start, name: ".", into: &writer)
            try writer.finish()
            lseek(fd, 0, SEEK_SET)
            var reader = TarReader(FileSource(fd: fd, path: archive))
            defer { reader.close() }
            _ = try LayerApplier(root: volume.mountpoint, mode: .apply).apply(&reader)
        } catch {
            return
        }
    }

    public func volume(named name: String) throws(EngineError) -> VolumeRecord {
        guard let found = try store.volumes().first(where: { $0.name == name }) else { throw .noSuchVolume(name) }
        return found
    }

    public func volumeInUse(_ name: String) throws(EngineError) -> Bool {
        try store.containers().contains { $0.config.mounts.contains { $0.kind == .volume && $0.source == name } }
    }

    public func removeVolume(_ name: String, force: Bool) throws(EngineError) {
        let volume = try volume(named: name)
        let users = try store.containers().filter { $0.config.mounts.contains { $0.kind == .volume && $0.source == name } }
        if !users.isEmpty { throw .volumeInUse(name, containers: users.map(\.id)) }
        try store.deleteVolume(name)
        try? Files.removeTree(Paths.parent(volume.mountpoint))
        events.record(type: "volume", action: "destroy", id: name, attributes: ["driver": "local"])
    }

    /// Removes every volume no container uses; returns their names and the bytes freed.
    /// Removes the volumes no container uses that `filter` keeps: with `all` every such
    /// volume, else the anonymous ones only (docker's `volume prune` since API 1.42).
    public func pruneVolumes(all: Bool = true, filter: VolumeFilter = VolumeFilter()) throws(EngineError) -> (removed: [String], bytes: Int64) {
        var removed: [String] = []
        var bytes: Int64 = 0
        for volume in try store.volumes() where all || volume.labels["com.docker.volume.anonymous"] != nil {
            guard filter.matches(volume, inUse: false), !(try volumeInUse(volume.name)) else { continue }
            bytes += ContainerEngine.diskUsage(volume.mountpoint)
            try removeVolume(volume.name, force: false)
            removed.append(volume.name)
        }
        return (removed, bytes)
    }

    public static func diskUsageOf(_ path: String) -> Int64 { diskUsage(path) }

    /// Bytes under a directory as docker counts them (`TreeSize`).
    static func diskUsage(_ path: String) -> Int64 { TreeSize.of(path) }
}
