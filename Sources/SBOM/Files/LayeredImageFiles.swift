/// An image's files as a container sees them, read straight from its unpacked layer
/// directories (the snapshot store's overlay form) without mounting them: whiteouts
/// (0:0 character devices) and opaque directories of upper layers hide what is below
/// them, and symbolic links are never followed out of a layer.
public struct LayeredImageFiles: LayerHistory {
    /// The layers, bottom first, as given.
    public let layers: [(diffID: String, path: String)]
    let stack: OverlayStack

    /// `layers` lists the unpacked layer directories bottom layer first, as the image
    /// config's `rootfs.diff_ids` does.
    public init(layers: [(diffID: String, path: String)]) {
        self.layers = layers
        stack = OverlayStack(topmostFirst: layers.reversed().map { OverlayStack.Layer(diffID: $0.diffID, root: $0.path) })
    }

    public var layerIDs: [String] { layers.map(\.diffID) }

    public func view(throughLayer index: Int) -> any ImageFiles {
        LayeredImageFiles(layers: Array(layers[...index]))
    }

    public func layerChanges(_ index: Int, path: String) -> Bool {
        stack.layerChanges(layers.count - 1 - index, path)
    }

    public func contents(_ path: String, limit: Int) -> [UInt8]? { stack.contents(path, limit: limit) }
    public func read(_ path: String, offset: Int, count: Int) -> [UInt8]? { stack.read(path, offset: offset, count: count) }
    public func list(_ directory: String) -> [String]? { stack.list(directory) }
    public func walk(_ visit: (ImageFileEntry) throws -> Void) rethrows { try stack.walk(visit) }
    public func layer(of path: String) -> String? { stack.entry(path).flatMap { stack.layers[$0.layer].diffID } }
    public func symlinkTarget(_ path: String) -> String? { stack.symlinkTarget(path) }
    public func hostPath(_ path: String) -> String? { stack.regularHostPath(path) }
}
