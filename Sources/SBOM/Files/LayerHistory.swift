/// An image view that knows the layers it is made of, bottom first, so that a cataloger
/// can tell in which layer a package appeared: the view as it was after each layer, and
/// whether a layer touched a path at all (most layers leave the package databases alone,
/// so most earlier views need not be read).
public protocol LayerHistory: ImageFiles {
    /// The layers' diff ids, bottom layer first.
    var layerIDs: [String] { get }
    /// The image as it was after the layer at `index` (0 is the bottom layer).
    func view(throughLayer index: Int) -> any ImageFiles
    /// Whether the layer at `index` changes what the view shows at `path` (it holds an
    /// entry there, or deletes or hides something above it).
    func layerChanges(_ index: Int, path: String) -> Bool
}
