import ImageSpec

/// Image and layer sizes as dockerd reports them (`docker images`, `image inspect`,
/// `history`, `system df`): what each layer takes unpacked (`SnapshotStore.layerSize`),
/// not what its compressed blob takes. A layer that is not unpacked (the vfs driver keeps
/// none) counts its blob's size instead. The CRI keeps the record's blob total, as
/// containerd reports an image's content size there.
extension ImageService {
    /// Each layer of the image (by diff id, in order) with its size; nil when its config
    /// cannot be read.
    public func layerSizes(of record: ImageRecord) -> [(diffID: Digest, size: Int64)]? {
        guard let config = try? config(of: record) else { return nil }
        let blobs = (try? manifest(of: record).layers) ?? []
        return config.rootfs.diff_ids.enumerated().map { index, diffID in
            (diffID, snapshots.layerSize(diffID) ?? (index < blobs.count ? blobs[index].size : 0))
        }
    }

    /// The image's size: its layers' sizes added up (the record's blob total if its
    /// config cannot be read).
    public func size(of record: ImageRecord) -> Int64 {
        layerSizes(of: record)?.reduce(0) { $0 + $1.size } ?? record.size
    }
}
