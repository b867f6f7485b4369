import CaissonSys
import ContentStore
import ImageSpec
import Registry

/// What a pull reports as it goes, for progress display.
public enum PullEvent: Sendable {
    case resolving(String)
    case layerWaiting(Digest, size: Int64)
    case layerExists(Digest)
    case layerDownloading(Digest, done: Int64, total: Int64)
    case layerDownloaded(Digest)
    case layerExtracting(Digest)
    case layerComplete(Digest)
    case finished(ImageRecord, reference: ImageReference, manifestDigest: Digest, downloaded: Bool)
}

public typealias PullObserver = @Sendable (PullEvent) -> Void

extension ImageService {
    /// Pulls an image: resolves the name through the unqualified-search registries,
    /// mirrors and location rewrites; picks the manifest for `platform` from an index;
    /// downloads the config and the layers in parallel, each verified as it streams; and
    /// unpacks each layer once.
    public func pull(_ text: String, platform: Platform = .current, client: RegistryClient,
                     observer: @escaping PullObserver = { _ in }) async throws(ImageError) -> ImageRecord {
        let reference: ImageReference
        do { reference = try ImageReference(parsing: text) } catch { throw .document(error) }
        var candidates = [reference]
        if !reference.isQualified {
            let search = registries.unqualifiedSearchRegistries.isEmpty ? ["docker.io"] : registries.unqualifiedSearchRegistries
            candidates = search.map { reference.inRegistry($0) }
        }
        var failures: [RegistryError] = []
        for candidate in candidates {
            let endpoints: [Endpoint]
            do { endpoints = try registries.pullEndpoints(for: candidate) } catch {
                failures.append(error)
                continue
            }
            for endpoint in endpoints {
                observer(.resolving("\(endpoint)"))
                do {
                    return try await pull(candidate, from: endpoint, platform: platform, client: client, observer: observer)
                } catch .registry(let error) {
                    failures.append(error)
                    continue
                }
            }
        }
        // The most telling failure: anything but "not found" beats "not found".
        if let failure = failures.first(where: { if case .manifestUnknown = $0 { return false }; return true }) {
            throw .registry(failure)
        }
        throw .registry(failures.first ?? .manifestUnknown(reference.description))
    }

    private func pull(_ reference: ImageReference, from endpoint: Endpoint, platform: Platform, client: RegistryClient,
                      observer: @escaping PullObserver) async throws(ImageError) -> ImageRecord {
        let top: RegistryClient.FetchedManifest
        do { top = try await client.fetchManifest(endpoint, reference: reference.manifestReference) } catch { throw .registry(error) }
        var manifestBytes = top.bytes
        var manifestDigest = top.digest
        var manifestType = top.mediaType
        var indexDigest: Digest?
        let kind: ManifestKind
        do { kind = try ManifestKind.detect(top.bytes, declared: top.mediaType) } catch { throw .document(error) }
        if kind == .index {
            let index: ImageIndex
            do { index = try ImageIndex.parse(top.bytes) } catch { throw .document(error) }
            guard let entry = index.manifest(for: platform) else {
                throw .noMatchingPlatform(reference: reference.description, platform: platform.description,
                                          available: index.manifests.compactMap { $0.platform?.description })
            }
            do {
                try content.write(top.bytes, expected: top.digest)
            } catch {
                throw .content(error)
            }
            indexDigest = top.digest
            let chosen: RegistryClient.FetchedManifest
            do { chosen = try await client.fetchManifest(endpoint, reference: entry.digest.description) } catch { throw .registry(error) }
            manifestBytes = chosen.bytes
            manifestDigest = chosen.digest
            manifestType = entry.mediaType
        }
        let manifest: Manifest
        do { manifest = try Manifest.parse(manifestBytes) } catch { throw .document(error) }
        let mediaType = manifest.mediaType ?? manifestType ?? MediaType.ociManifest

        // The config first: it names the diff ids the layers must unpack to.
        do { try await client.fetchBlob(endpoint, manifest.config, into: content) } catch { throw .registry(error) }
        let configBytes: [UInt8]
        do { configBytes = try content.read(manifest.config.digest) } catch { throw .content(error) }
        let config: ImageConfig
        do { config = try ImageConfig.parse(configBytes) } catch { throw .document(error) }
        guard config.rootfs.diff_ids.count == manifest.layers.count else {
            throw .invalid("image \(reference) is inconsistent: \(manifest.layers.count) layers but \(config.rootfs.diff_ids.count) diff ids")
        }

        var downloaded = false
        let layers = Array(zip(manifest.layers, config.rootfs.diff_ids))
        for (layer, diffID) in layers {
            if snapshots.hasLayer(diffID) || (snapshots.driver == .vfs && content.contains(layer.digest)) {
                observer(.layerExists(layer.digest))
            } else {
                observer(.layerWaiting(layer.digest, size: layer.size))
            }
        }
        let content = self.content
        let snapshots = self.snapshots
        try await withThrowingTaskGroup(of: Bool.self) { group in
            var next = 0
            let parallel = 4
            func start(_ i: Int) {
                let (layer, diffID) = layers[i]
                group.addTask {
                    if snapshots.hasLayer(diffID) || (snapshots.driver == .vfs && content.contains(layer.digest)) { return false }
                    let fresh = !content.contains(layer.digest)
                    try await client.fetchBlob(endpoint, layer, into: content) { done in
                        observer(.layerDownloading(layer.digest, done: done, total: layer.size))
                    }
                    observer(.layerDownloaded(layer.digest))
                    if snapshots.driver == .overlay {
                        observer(.layerExtracting(layer.digest))
                        try snapshots.unpack(blob: content.path(for: layer.digest), mediaType: layer.mediaType, diffID: diffID)
                    }
                    observer(.layerComplete(layer.digest))
                    return fresh
                }
            }
            while next < min(parallel, layers.count) { start(next); next += 1 }
            while let fresh = try await group.next() {
                downloaded = downloaded || fresh
                if next < layers.count { start(next); next += 1 }
            }
        }
        do {
            try content.write(manifestBytes, expected: manifestDigest)
        } catch {
            throw .content(error)
        }
        let size = manifest.layers.reduce(manifest.config.size) { $0 + $1.size }
        let repoTags = reference.tag != nil && reference.digest == nil ? [reference.description] : []
        let digestName = "\(reference.name)@\(indexDigest ?? manifestDigest)"
        let record = ImageRecord(
            id: manifest.config.digest, manifest: manifestDigest, manifestMediaType: mediaType, index: indexDigest,
            repoTags: repoTags, repoDigests: [digestName], created: config.created, added: Clock.rfc3339Now(), size: size,
            platform: Platform(os: config.os, architecture: config.architecture, variant: config.variant).description)
        let registered = try register(record)
        observer(.finished(registered, reference: reference, manifestDigest: indexDigest ?? manifestDigest, downloaded: downloaded))
        return registered
    }
}

/// Runs a throwing task group and converts whatever it throws into an ImageError.
func withThrowingTaskGroup<Child: Sendable>(
    of: Child.Type, _ body: (inout ThrowingTaskGroup<Child, any Error>) async throws -> Void
) async throws(ImageError) {
    do {
        try await Swift.withThrowingTaskGroup(of: Child.self) { group in
            try await body(&group)
        }
    } catch {
        throw ImageError.wrapping(error)
    }
}
