#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import ImageSpec

/// An image's layers as directories in overlayfs form (bottom first), for readers that
/// look at an image's files without mounting or running it: the SBOM catalogers.
///
/// With the overlay driver these are the shared snapshot directories (unpacked first if
/// missing); with vfs each layer is unpacked on its own into a scratch directory that
/// `release` removes. A lease named after this process keeps the layers from being
/// collected meanwhile; a process killed before `release` leaves a lease that
/// `leasedLayers` ignores once the process is gone.
public struct LayerDirectories: Sendable {
    public struct Layer: Sendable {
        public let diffID: Digest
        public let path: String
    }

    /// Bottom layer first.
    public let layers: [Layer]
    let service: ImageService
    let leaseName: String
    let scratch: String?

    /// Removes the lease and any scratch copies.
    public func release() {
        service.dropLease(leaseName)
        if let scratch { try? Files.removeTree(scratch) }
    }
}

extension ImageService {
    /// Lease names of this kind hold layers only while their process lives.
    static let processLeasePrefix = "reader-"

    /// The layers of `record` as directories, until `release`.
    public func layerDirectories(of record: ImageRecord) throws(ImageError) -> LayerDirectories {
        let config = try config(of: record)
        let manifest = try manifest(of: record)
        let pairs = Array(zip(manifest.layers, config.rootfs.diff_ids))
        guard pairs.count == config.rootfs.diff_ids.count else {
            throw .invalid("image \(record.id.encoded.prefix(12)) has \(manifest.layers.count) layers but \(config.rootfs.diff_ids.count) diff ids")
        }
        let leaseName = "\(ImageService.processLeasePrefix)\(getpid())-\(Clock.monotonicMilliseconds())"
        try writeLease(leaseName, layers: pairs.map(\.1))
        var scratch: String?
        do throws(ImageError) {
            var layers: [LayerDirectories.Layer] = []
            switch snapshots.driver {
            case .overlay:
                for (layer, diffID) in pairs {
                    if !snapshots.hasLayer(diffID) {
                        try snapshots.unpack(blob: content.path(for: layer.digest), mediaType: layer.mediaType, diffID: diffID)
                    }
                    layers.append(.init(diffID: diffID, path: snapshots.layerPath(diffID)))
                }
            case .vfs:
                let directory = "\(snapshots.root)/tmp/\(leaseName)"
                scratch = directory
                for (index, (layer, diffID)) in pairs.enumerated() {
                    let path = "\(directory)/\(index)"
                    do { try Files.makeDirectories(path, mode: 0o755) } catch { throw ImageError.system(error) }
                    try SnapshotStore.apply(blob: content.path(for: layer.digest), mediaType: layer.mediaType,
                                            diffID: diffID, into: path, mode: .overlay)
                    layers.append(.init(diffID: diffID, path: path))
                }
            }
            return LayerDirectories(layers: layers, service: self, leaseName: leaseName, scratch: scratch)
        } catch {
            dropLease(leaseName)
            if let scratch { try? Files.removeTree(scratch) }
            throw error
        }
    }
}
