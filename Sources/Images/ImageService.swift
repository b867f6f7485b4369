#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import ContentStore
import ImageSpec
import LayerArchive
import Registry

/// Where and how images are kept: `ROOT/content` (blobs), `ROOT/snapshots` (unpacked
/// layers), `ROOT/images.json` (names), `ROOT/leases` (layers in use by root filesystems).
public struct ImageStoreOptions: Sendable {
    public var root: String
    public var registriesConf: String?
    public var authFile: String?
    public var driver: SnapshotStore.Driver?

    public init(root: String = "/var/lib/caisson", registriesConf: String? = nil, authFile: String? = nil,
                driver: SnapshotStore.Driver? = nil) {
        self.root = root
        self.registriesConf = registriesConf
        self.authFile = authFile
        self.driver = driver
    }
}

/// The images on this machine: look-up by name or id, pull, push, tag, remove, prune.
/// Everything the `caisson` image commands do goes through here, and so will the engine
/// and the CRI image service.
public final class ImageService: Sendable {
    public let root: String
    public let content: ContentStore
    public let snapshots: SnapshotStore
    public let index: ImageIndexFile
    public let registries: RegistriesConf
    public let credentials: CredentialStore

    public init(_ options: ImageStoreOptions) throws(ImageError) {
        root = options.root
        do {
            try Files.makeDirectories(root, mode: 0o700)
            try Files.makeDirectories(root + "/leases", mode: 0o700)
            content = try ContentStore(root: root + "/content")
        } catch {
            throw ImageError.wrapping(error)
        }
        snapshots = try SnapshotStore(root: root + "/snapshots", driver: options.driver ?? SnapshotStore.detectDriver())
        index = ImageIndexFile(root: root)
        do {
            registries = try RegistriesConf.load(path: options.registriesConf)
        } catch {
            throw .registry(error)
        }
        credentials = CredentialStore(file: options.authFile)
    }

    public func list() throws(ImageError) -> [ImageRecord] { try index.load() }

    // MARK: Look-up

    /// Finds a local image by name (`busybox`, `localhost:5000/x:1`), by `name@digest`, or
    /// by id or id prefix (`sha256:…`, `3f57d9401f8d`).
    public func resolve(_ text: String) throws(ImageError) -> ImageRecord {
        let images = try list()
        if let record = try ImageService.find(text, in: images, searchRegistries: registries.unqualifiedSearchRegistries) {
            return record
        }
        throw .notFound(text)
    }

    static func find(_ text: String, in images: [ImageRecord], searchRegistries: [String]) throws(ImageError) -> ImageRecord? {
        let bare = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        if bare.count >= 3, bare.count <= 64, bare.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            let matches = images.filter { $0.id.encoded.hasPrefix(bare) }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 { throw .ambiguous(text) }
        }
        guard let reference = try? ImageReference(parsing: text) else {
            if text.hasPrefix("sha256:") { return nil }
            throw .invalid("invalid reference format: \"\(text)\"")
        }
        var candidates = [reference]
        if !reference.isQualified {
            for registry in searchRegistries { candidates.append(reference.inRegistry(registry)) }
            candidates.append(reference.inRegistry("localhost"))
        }
        for candidate in candidates {
            if let digest = candidate.digest {
                let name = "\(candidate.name)@\(digest)"
                if let match = images.first(where: { $0.repoDigests.contains(name) || ($0.manifest == digest && $0.repoDigests.contains { $0.hasPrefix(candidate.name + "@") }) }) {
                    return match
                }
            } else if let match = images.first(where: { $0.repoTags.contains(candidate.description) }) {
                return match
            }
        }
        return nil
    }

    public func manifest(of record: ImageRecord) throws(ImageError) -> Manifest {
        do { return try Manifest.parse(try content.read(record.manifest)) } catch { throw ImageError.wrapping(error) }
    }

    public func config(of record: ImageRecord) throws(ImageError) -> ImageConfig {
        do { return try ImageConfig.parse(try content.read(record.id)) } catch { throw ImageError.wrapping(error) }
    }

    public func configBytes(of record: ImageRecord) throws(ImageError) -> [UInt8] {
        do { return try content.read(record.id) } catch { throw .content(error) }
    }

    // MARK: Names

    /// Adds a name to an image, taking it from any image that had it.
    public func tag(_ source: String, as target: String) throws(ImageError) {
        let record = try resolve(source)
        let reference: ImageReference
        do { reference = try ImageReference(parsing: target) } catch { throw .document(error) }
        guard reference.digest == nil else { throw .invalid("refusing to create a tag with a digest reference") }
        try index.update { (images) throws(ImageError) in
            for i in images.indices { images[i].repoTags.removeAll { $0 == reference.description } }
            guard let i = images.firstIndex(where: { $0.id == record.id }) else { throw .notFound(source) }
            images[i].repoTags.append(reference.description)
        }
    }

    /// Records an image (after a pull, load, import or build), moving its tag from any
    /// older image that carried it.
    @discardableResult
    public func register(_ record: ImageRecord) throws(ImageError) -> ImageRecord {
        try index.update { (images) throws(ImageError) -> ImageRecord in
            for i in images.indices where images[i].id != record.id {
                images[i].repoTags.removeAll { record.repoTags.contains($0) }
            }
            if let i = images.firstIndex(where: { $0.id == record.id }) {
                var merged = images[i]
                for tag in record.repoTags where !merged.repoTags.contains(tag) { merged.repoTags.append(tag) }
                for digest in record.repoDigests where !merged.repoDigests.contains(digest) { merged.repoDigests.append(digest) }
                merged.manifest = record.manifest
                merged.manifestMediaType = record.manifestMediaType
                merged.index = record.index ?? merged.index
                images[i] = merged
                return merged
            }
            images.append(record)
            return record
        }
    }

    /// `rmi`: removes a name, or the whole image when it is named by id or has one name
    /// left. Returns docker's report lines ("Untagged: …", "Deleted: …"). Containers using
    /// the image (`users`) hold it as dockerd's do: its last name is removed only with
    /// `force`, and then the image stays (nameless) while a running container uses it; by
    /// id it is never removed under a running container, and under a stopped one only with
    /// `force`.
    public func remove(_ text: String, force: Bool, users: [Digest: ImageUser] = [:]) throws(ImageError) -> [String] {
        let record = try resolve(text)
        let user = users[record.id]
        var report: [String] = []
        let byID = record.id.encoded.hasPrefix(text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text)
            && !record.repoTags.contains { $0.hasSuffix("/" + text) || $0 == text }
        try index.update { (images) throws(ImageError) in
            guard let i = images.firstIndex(where: { $0.id == record.id }) else { throw .notFound(text) }
            var image = images[i]
            if !byID, image.repoTags.count > 1, let reference = try? ImageReference(parsing: text) {
                // Only the name goes.
                let name = images[i].repoTags.first { $0 == reference.description }
                    ?? images[i].repoTags.first { $0.hasSuffix("/" + reference.repository + ":" + (reference.tag ?? "latest")) }
                if let name {
                    image.repoTags.removeAll { $0 == name }
                    images[i] = image
                    report.append("Untagged: \(name)")
                    return
                }
            }
            if byID {
                if let user, user.running {
                    throw .inUse("conflict: unable to delete \(record.id.shortID) (cannot be forced) - image is being used by running container \(user.shortID)")
                }
                if image.repoTags.count > 1, !force {
                    throw .inUse("conflict: unable to delete \(record.id.shortID) (must be forced) - image is referenced in multiple repositories")
                }
                if let user, !force {
                    throw .inUse("conflict: unable to delete \(record.id.shortID) (must be forced) - image is being used by stopped container \(user.shortID)")
                }
            } else if let user {
                if !force {
                    throw .inUse("conflict: unable to remove repository reference \"\(text)\" (must force) - container \(user.shortID) is using its referenced image \(record.id.shortID)")
                }
                if user.running {
                    // The names go; the image stays for the running container.
                    for name in image.repoTags { report.append("Untagged: \(name)") }
                    for name in image.repoDigests { report.append("Untagged: \(name)") }
                    image.repoTags = []
                    image.repoDigests = []
                    images[i] = image
                    return
                }
            }
            for name in image.repoTags { report.append("Untagged: \(name)") }
            for name in image.repoDigests { report.append("Untagged: \(name)") }
            images.remove(at: i)
            report.append("Deleted: \(record.id)")
        }
        if report.contains(where: { $0.hasPrefix("Deleted:") }) {
            // dockerd also names each layer that no other image has, top first, by chain id.
            if let removedConfig = try? config(of: record) {
                var kept = Set<Digest>()
                for other in try list() {
                    if let diffIDs = try? config(of: other).rootfs.diff_ids { kept.formUnion(ImageService.chainIDs(diffIDs)) }
                }
                for chain in ImageService.chainIDs(removedConfig.rootfs.diff_ids).reversed() where !kept.contains(chain) {
                    report.append("Deleted: \(chain)")
                }
            }
            _ = try garbageCollect()
        }
        return report
    }

    /// The OCI chain ids of a stack of layers (bottom first): the first layer's diff id,
    /// then the digest of "PARENT-CHAIN DIFF-ID" for each one above it.
    public static func chainIDs(_ diffIDs: [Digest]) -> [Digest] {
        var chains: [Digest] = []
        for diffID in diffIDs {
            guard let parent = chains.last else { chains.append(diffID); continue }
            chains.append(Digest.sha256(of: Array("\(parent) \(diffID)".utf8)))
        }
        return chains
    }

    /// `image prune`: removes dangling images (no tag), or with `all` every image not in
    /// `inUse`; then collects garbage. Returns the deleted ids and the bytes reclaimed.
    public func prune(all: Bool, inUse: Set<Digest> = []) throws(ImageError) -> (deleted: [Digest], reclaimed: Int64) {
        let result = try prune(inUse: inUse) { all || $0.repoTags.isEmpty }
        return (result.removed.map(\.id), result.reclaimed)
    }

    /// Removes the images `doomed` chooses (never one in `inUse`), with all their names,
    /// then collects garbage; returns the records removed and the bytes reclaimed (the
    /// Docker API's prune, whose filters choose).
    public func prune(inUse: Set<Digest>, where doomed: (ImageRecord) -> Bool) throws(ImageError) -> (removed: [ImageRecord], reclaimed: Int64) {
        let removed = try index.update { (images) throws(ImageError) -> [ImageRecord] in
            let chosen = images.filter { doomed($0) && !inUse.contains($0.id) }
            let ids = Set(chosen.map(\.id))
            images.removeAll { ids.contains($0.id) }
            return chosen
        }
        let reclaimed = try garbageCollect()
        return (removed, reclaimed)
    }

    /// Removes blobs and unpacked layers that no image and no lease refers to.
    public func garbageCollect() throws(ImageError) -> Int64 {
        let images = try list()
        var keepBlobs = Set<Digest>()
        var keepLayers = Set<Digest>()
        for record in images {
            keepBlobs.insert(record.id)
            keepBlobs.insert(record.manifest)
            if let index = record.index { keepBlobs.insert(index) }
            if let manifest = try? manifest(of: record) {
                for layer in manifest.layers { keepBlobs.insert(layer.digest) }
            }
            if let config = try? config(of: record) {
                for diffID in config.rootfs.diff_ids { keepLayers.insert(diffID) }
            }
        }
        keepLayers.formUnion(leasedLayers())
        var reclaimed: Int64 = 0
        do {
            reclaimed += try content.garbageCollect(keep: keepBlobs).bytes
        } catch {
            throw .content(error)
        }
        for layer in snapshots.layers() where !keepLayers.contains(layer) {
            try snapshots.remove(layer)
        }
        return reclaimed
    }

    // MARK: Leases

    /// Layers held by root filesystems (containers, bundles): never collected.
    func leasedLayers() -> Set<Digest> {
        var result = Set<Digest>()
        for name in (try? Files.listDirectory(root + "/leases")) ?? [] {
            if name.hasPrefix(ImageService.processLeasePrefix),
               let pid = name.dropFirst(ImageService.processLeasePrefix.count).split(separator: "-").first.flatMap({ Int32($0) }),
               kill(pid, 0) != 0 && errno == ESRCH {
                dropLease(name)
                continue
            }
            guard let text = try? Files.readString(root + "/leases/" + name) else { continue }
            for line in text.split(separator: "\n") {
                if let digest = try? Digest(parsing: String(line)) { result.insert(digest) }
            }
        }
        return result
    }

    func writeLease(_ name: String, layers: [Digest]) throws(ImageError) {
        do {
            try Files.writeAtomically(root + "/leases/" + name, bytes: Array(layers.map(\.description).joined(separator: "\n").utf8))
        } catch {
            throw .system(error)
        }
    }

    func dropLease(_ name: String) {
        unlink(root + "/leases/" + name)
    }
}
