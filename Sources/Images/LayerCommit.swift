#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import ImageSpec
import LayerArchive

/// A new layer made from a directory of changes: a build step's (or a container's)
/// overlay upper directory. The directory is archived once, in a fixed order, into a
/// compressed blob in the content store, hashing the tar stream (the diff id) and the
/// blob (its digest) on the way; then, with the overlay driver, the directory itself
/// becomes the layer's snapshot, since it already holds the layer in overlayfs's form
/// (no second unpacking of what was just archived).
public struct CommittedLayer: Sendable, Equatable {
    public var descriptor: Descriptor
    public var diffID: Digest

    public init(descriptor: Descriptor, diffID: Digest) {
        self.descriptor = descriptor
        self.diffID = diffID
    }
}

extension ImageService {
    /// Archives `upperDirectory` into a layer blob. Returns nil when the directory holds
    /// no change (docker records such a step in the history only). With `adopt`, the
    /// directory is moved into the snapshot store as the layer (it is gone afterwards);
    /// without, the layer is unpacked from the blob when first needed. `excluding` names
    /// paths (relative to the directory) left out of the layer.
    public func commitLayer(upperDirectory: String, compression: LayerCompression = .gzip,
                            timestamp: Int64? = nil, adopt: Bool = false,
                            excluding: Set<String> = []) throws(ImageError) -> CommittedLayer? {
        let mediaType: String
        switch compression {
        case .gzip: mediaType = MediaType.ociLayerGzip
        case .none: mediaType = MediaType.ociLayer
        case .zstd: mediaType = MediaType.ociLayerZstd
        }
        let staging = "\(root)/tmp-layer-\(getpid())-\(Clock.monotonicMilliseconds())"
        defer { unlink(staging) }
        let diffID: Digest
        let blobDigest: Digest
        let entries: Int
        do {
            let out = open(staging, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if out < 0 { throw SysError("open", path: staging) }
            defer { close(out) }
            var archiver = OverlayDiffArchiver(timestamp: timestamp, excluded: excluding)
            // One pass: tar -> diff id hash -> gzip -> blob digest hash -> file.
            let blobStream = DigestingSink(FileSink(fd: out, path: staging))
            // The tar stream through `sink` (a compressor over blobStream): its diff id.
            func archive<Sink: ByteSink>(into sink: Sink) throws -> Digest {
                let tarStream = DigestingSink(sink)
                var writer = TarWriter(tarStream)
                try archiver.archive(upperDirectory: upperDirectory, into: &writer)
                try writer.finish()
                return tarStream.digest
            }
            switch compression {
            case .gzip: diffID = try archive(into: try GzipSink(blobStream))
            case .zstd: diffID = try archive(into: try ZstdSink(blobStream))
            case .none: diffID = try archive(into: blobStream)
            }
            blobDigest = blobStream.digest
            entries = archiver.entries
        } catch {
            throw ImageError.wrapping(error)
        }
        if entries == 0 { return nil }
        let descriptor = try ingestFile(staging, mediaType: mediaType, expected: blobDigest)
        if adopt { try snapshots.adopt(directory: upperDirectory, diffID: diffID) }
        return CommittedLayer(descriptor: descriptor, diffID: diffID)
    }
}

extension SnapshotStore {
    /// Takes a directory that already holds a layer in overlayfs's form (an overlay upper
    /// directory) as that layer's snapshot, by renaming it (same filesystem). A layer
    /// already present is kept and the directory removed.
    public func adopt(directory: String, diffID: Digest) throws(ImageError) {
        guard driver == .overlay else {
            try? Files.removeTree(directory)
            return
        }
        if hasLayer(diffID) {
            try? Files.removeTree(directory)
            return
        }
        let staging = "\(root)/tmp/\(diffID.encoded).adopt.\(getpid())"
        do {
            try Files.makeDirectories(staging, mode: 0o755)
            if rename(directory, staging + "/fs") != 0 { throw SysError("rename", path: directory) }
            let final = "\(root)/layers/\(diffID.encoded)"
            if rename(staging, final) != 0 {
                // Another process adopted or unpacked the same layer meanwhile: keep theirs.
                if hasLayer(diffID) { try? Files.removeTree(staging); return }
                throw SysError("rename", path: final)
            }
        } catch {
            try? Files.removeTree(staging)
            throw ImageError.wrapping(error)
        }
    }
}

extension ImageService {
    /// A new image made of `base`'s layers (none for `FROM scratch`) plus `newLayers`,
    /// with `config` as its run configuration and `history` appended to the base's (one
    /// entry per step, `empty_layer` for steps that made no layer). Written as an OCI
    /// manifest and config into the content store and registered under `names`.
    public func commitImage(base: ImageRecord?, newLayers: [CommittedLayer], config runConfig: ImageConfig.RunConfig,
                            history: [ImageConfig.History], names: [String], created: String? = nil,
                            author: String? = nil) throws(ImageError) -> ImageRecord {
        var layers: [CommittedLayer] = []
        var pastHistory: [ImageConfig.History] = []
        var platform = Platform.current
        if let base {
            let baseConfig = try config(of: base)
            layers = zip(try manifest(of: base).layers, baseConfig.rootfs.diff_ids).map { CommittedLayer(descriptor: $0, diffID: $1) }
            pastHistory = baseConfig.history ?? []
            platform = Platform(os: baseConfig.os, architecture: baseConfig.architecture, variant: baseConfig.variant)
        }
        return try writeImage(layers: layers + newLayers, config: runConfig, history: pastHistory + history,
                              platform: platform, names: names, created: created, author: author)
    }

    /// Writes an image of exactly `layers` (bottom first) with this configuration and
    /// history, and registers it under `names`.
    public func writeImage(layers: [CommittedLayer], config runConfig: ImageConfig.RunConfig, history: [ImageConfig.History],
                           platform: Platform, names: [String], created: String? = nil,
                           author: String? = nil, format: ImageFormat = .oci) throws(ImageError) -> ImageRecord {
        let references: [ImageReference]
        do { references = try names.map { (name) throws(ImageSpecError) in try ImageReference(parsing: name) } } catch {
            throw .document(error)
        }
        let now = created ?? Clock.rfc3339Now()
        var imageConfig = ImageConfig(platform: platform, config: runConfig, diffIDs: layers.map(\.diffID),
                                      created: now, history: history)
        imageConfig.author = author
        let configBytes = imageConfig.encoded()
        let configDigest: Digest
        do { configDigest = try content.write(configBytes) } catch { throw .content(error) }
        var descriptors: [Descriptor] = []
        for layer in layers {
            guard let type = format.layerMediaType(layer.descriptor.mediaType) else {
                throw .invalid("layer \(layer.descriptor.digest.encoded.prefix(12)) (\(layer.descriptor.mediaType)) cannot be written in the \(format.rawValue) format; use --format oci or --compression gzip")
            }
            var descriptor = layer.descriptor
            descriptor.mediaType = type
            descriptors.append(descriptor)
        }
        let manifest = Manifest(mediaType: format.manifestMediaType,
                                config: Descriptor(mediaType: format.configMediaType, digest: configDigest, size: Int64(configBytes.count)),
                                layers: descriptors)
        let manifestDigest: Digest
        do { manifestDigest = try content.write(manifest.encoded()) } catch { throw .content(error) }
        return try register(ImageRecord(
            id: configDigest, manifest: manifestDigest, manifestMediaType: format.manifestMediaType, index: nil,
            repoTags: references.map(\.description), repoDigests: [], created: now, added: Clock.rfc3339Now(),
            size: layers.reduce(Int64(configBytes.count)) { $0 + $1.descriptor.size }, platform: platform.description))
    }
}
