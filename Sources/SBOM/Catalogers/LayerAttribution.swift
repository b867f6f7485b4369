/// Finds the layer a package comes from: the lowest layer from which the package is
/// present, with the same version, in every view up to the top. Only layers that touch
/// the package's metadata paths can change that, so only the views below those are read
/// again; a view that knows no layers gives the layer of the metadata file.
struct LayerAttribution {
    let files: any ImageFiles

    /// `paths` are the metadata files (or directories) whose content decides whether
    /// the package is present; `isPresent` reads them in an earlier view (it gets the
    /// view and its top layer's index, for caching).
    func lowestLayer(watching paths: [String], isPresent: (any ImageFiles, Int) -> Bool) -> String? {
        guard let history = files as? any LayerHistory, !history.layerIDs.isEmpty else {
            return paths.lazy.compactMap { files.layer(of: $0) }.first
        }
        var layer = history.layerIDs.count - 1
        while layer > 0 {
            let touched = paths.contains { history.layerChanges(layer, path: $0) }
            if touched && !isPresent(history.view(throughLayer: layer - 1), layer - 1) { break }
            layer -= 1
        }
        return history.layerIDs[layer]
    }
}
