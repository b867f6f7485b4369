#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import ImageSpec
import Images

/// The build cache: each step's result under a key made of its parent's key, the
/// instruction after substitution, the build arguments a RUN sees and, for COPY, the
/// content and metadata of the files it reads (hashed, never timestamps of the context).
/// A hit gives the step's layer (or "no layer") without running it; entries whose blob
/// has been collected are misses. Kept as one JSON file beside the image index, written
/// atomically under a lock, so builds of any name share it and a failed build keeps
/// what its good steps made.
public struct BuildCache: Sendable {
    struct Entry: Codable {
        var mediaType: String?
        var digest: String?
        var size: Int64?
        var diffID: String?
        var created: String
    }

    let path: String
    let lockPath: String

    public init(root: String) {
        path = root + "/build-cache.json"
        lockPath = root + "/build-cache.lock"
    }

    /// The key of a step: parent key, then the step's own description.
    public static func key(parent: String, step: String) -> String {
        Digest.sha256(of: Array((parent + "\n" + step).utf8)).encoded
    }

    /// A cached step: its layer (nil when it made none) and when it first ran, which the
    /// history keeps, so that a rebuild from cache gives the very same image.
    public struct Hit: Sendable {
        public var layer: CommittedLayer?
        public var created: String
    }

    /// nil: a miss.
    public func lookup(_ key: String, images: ImageService) -> Hit? {
        guard let entry = load()[key] else { return nil }
        guard let digestText = entry.digest, let diffText = entry.diffID, let mediaType = entry.mediaType,
              let digest = try? Digest(parsing: digestText), let diffID = try? Digest(parsing: diffText) else {
            return Hit(layer: nil, created: entry.created)
        }
        guard Files.exists(images.content.path(for: digest)) else { return nil }
        return Hit(layer: CommittedLayer(descriptor: Descriptor(mediaType: mediaType, digest: digest, size: entry.size ?? 0), diffID: diffID),
                   created: entry.created)
    }

    public func store(_ key: String, layer: CommittedLayer?, created: String) {
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { return }
        defer { close(lock) }
        _ = flock(lock, LOCK_EX)
        var entries = load()
        entries[key] = Entry(mediaType: layer?.descriptor.mediaType, digest: layer?.descriptor.digest.description,
                             size: layer?.descriptor.size, diffID: layer?.diffID.description, created: created)
        if let bytes = try? JSONEncoding.encode(entries) {
            try? Files.writeAtomically(path, bytes: bytes, mode: 0o600)
        }
    }

    /// Forgets every entry (`caisson builder prune`, `POST /build/prune`); returns their
    /// keys. Under the lock `store` takes, so a step cached meanwhile is not written back.
    public func clear() -> [String] {
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if lock >= 0 { _ = flock(lock, LOCK_EX) }
        defer { if lock >= 0 { close(lock) } }
        let keys = load().keys.sorted()
        unlink(path)
        return keys
    }

    public var count: Int { load().count }

    /// What `system df` shows: the cached steps, and the bytes of the distinct layer blobs
    /// they hold that are still in the store.
    public func usage(images: ImageService) -> (steps: Int, bytes: Int64) {
        let entries = load()
        var seen = Set<String>()
        var bytes: Int64 = 0
        for entry in entries.values {
            guard let text = entry.digest, seen.insert(text).inserted, let digest = try? Digest(parsing: text),
                  Files.exists(images.content.path(for: digest)) else { continue }
            bytes += entry.size ?? 0
        }
        return (entries.count, bytes)
    }

    /// One cached step as `system df` lists it: its key, the bytes of its layer blob
    /// (0 without one, or when the blob is gone) and when it first ran.
    public struct Item: Sendable {
        public var id: String
        public var size: Int64
        public var created: String
    }

    /// Every cached step, by key.
    public func items(images: ImageService) -> [Item] {
        load().sorted { $0.key < $1.key }.map { key, entry in
            var size: Int64 = 0
            if let text = entry.digest, let digest = try? Digest(parsing: text), Files.exists(images.content.path(for: digest)) {
                size = entry.size ?? 0
            }
            return Item(id: key, size: size, created: entry.created)
        }
    }

    /// The directory of `RUN --mount=type=cache` mounts under the store root.
    public static func mountsDirectory(root: String) -> String { root + "/build-cache-mounts" }

    /// Removes the cache mounts no running build holds (their lock is free).
    public static func clearMounts(root: String) -> Int {
        let directory = mountsDirectory(root: root)
        var removed = 0
        for name in (try? Files.listDirectory(directory)) ?? [] where !name.hasSuffix(".lock") {
            let lock = open(directory + "/" + name + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard lock >= 0 else { continue }
            defer { close(lock) }
            guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { continue }
            if (try? Files.removeTree(directory + "/" + name)) != nil { removed += 1 }
            unlink(directory + "/" + name + ".lock")
        }
        return removed
    }

    func load() -> [String: Entry] {
        guard let bytes = try? Files.readBytes(path), let entries = try? JSONDecoding.decode([String: Entry].self, from: bytes) else {
            return [:]
        }
        return entries
    }
}

extension BuildCache {
    /// What a prune of the build cache did: the cache keys forgotten, the cache mounts
    /// removed, and the bytes the store gave back.
    public struct PruneResult: Sendable {
        public var keys: [String]
        public var mounts: Int
        public var reclaimed: Int64
    }

    /// `caisson builder prune` and `POST /build/prune`: sweeps what dead builds left,
    /// forgets every cached step and cache mount, and collects the blobs nothing holds.
    public static func prune(images: ImageService, runtime: String?, runtimeRoot: String?) throws(ImageError) -> PruneResult {
        BuildLeftovers.sweep(images: images, runtime: runtime, runtimeRoot: runtimeRoot)
        let keys = BuildCache(root: images.root).clear()
        let mounts = clearMounts(root: images.root)
        return PruneResult(keys: keys, mounts: mounts, reclaimed: try images.garbageCollect())
    }
}
