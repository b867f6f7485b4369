import CaissonSys
import ContentStore
import ImageSpec
import Registry

/// What a push reports as it goes.
public enum PushEvent: Sendable {
    case preparing(Digest)
    case exists(Digest)
    case mounted(Digest, from: String)
    case pushed(Digest)
    case finished(reference: ImageReference, digest: Digest, size: Int)
}

public typealias PushObserver = @Sendable (PushEvent) -> Void

extension ImageService {
    /// Pushes a local image (by name or id) to `destination` (default: its own name).
    /// Blobs the registry has are skipped; blobs it holds in another repository we pulled
    /// from are mounted; the rest are uploaded. The manifest goes up byte for byte, so its
    /// digest is the one `images --digests` shows.
    public func push(_ source: String, to destination: String? = nil, client: RegistryClient,
                     observer: @escaping PushObserver = { _ in }) async throws(ImageError) -> Digest {
        let record = try resolve(source)
        let target: ImageReference
        do { target = try ImageReference(parsing: destination ?? source) } catch { throw .document(error) }
        if destination == nil, !record.repoTags.contains(target.description) {
            throw .invalid("\(source) is an image id; name a destination (caisson push ID REGISTRY/REPOSITORY:TAG)")
        }
        let endpoint: Endpoint
        do { endpoint = try registries.pushEndpoint(for: target) } catch { throw .registry(error) }
        let manifest = try manifest(of: record)
        let manifestBytes: [UInt8]
        do { manifestBytes = try content.read(record.manifest) } catch { throw .content(error) }
        // Repositories in the same registry that hold this image: mount sources.
        let siblings = (try list()).flatMap { $0.repoDigests + $0.repoTags }.compactMap { try? ImageReference(parsing: $0) }
            .filter { $0.registry == target.registry && $0.repository != target.repository }.map(\.repository)
        let content = self.content
        let blobs = manifest.layers + [manifest.config]
        for blob in blobs where !content.contains(blob.digest) {
            throw .content(.notFound(blob.digest))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func start(_ i: Int) {
                let blob = blobs[i]
                group.addTask {
                    observer(.preparing(blob.digest))
                    if try await client.blobExists(endpoint, blob.digest) {
                        observer(.exists(blob.digest))
                        return
                    }
                    for repository in Set(siblings) where try await client.mountBlob(endpoint, blob.digest, from: repository) {
                        observer(.mounted(blob.digest, from: repository))
                        return
                    }
                    try await client.uploadBlob(endpoint, blob, file: content.path(for: blob.digest))
                    observer(.pushed(blob.digest))
                }
            }
            while next < min(4, blobs.count) { start(next); next += 1 }
            while try await group.next() != nil {
                if next < blobs.count { start(next); next += 1 }
            }
        }
        let digest: Digest
        do {
            digest = try await client.putManifest(endpoint, reference: target.manifestReference, bytes: manifestBytes,
                                                  mediaType: record.manifestMediaType)
        } catch {
            throw .registry(error)
        }
        var updated = record
        updated.repoDigests = ["\(target.name)@\(digest)"]
        updated.repoTags = []
        try register(updated)
        observer(.finished(reference: target, digest: digest, size: manifestBytes.count))
        return digest
    }
}
