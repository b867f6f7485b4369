/// An image's files in one plain directory: a root filesystem the `vfs` driver made by
/// applying every layer, a container's root, or a tree a test built. `layer` is the
/// diff id to report for every file, where the whole tree is one layer.
public struct DirectoryImageFiles: ImageFiles {
    public let root: String
    public let layerID: String?
    let stack: OverlayStack

    public init(root: String, layer: String? = nil) {
        self.root = root
        layerID = layer
        stack = OverlayStack(topmostFirst: [OverlayStack.Layer(diffID: layer, root: root)])
    }

    public func contents(_ path: String, limit: Int) -> [UInt8]? { stack.contents(path, limit: limit) }
    public func read(_ path: String, offset: Int, count: Int) -> [UInt8]? { stack.read(path, offset: offset, count: count) }
    public func list(_ directory: String) -> [String]? { stack.list(directory) }
    public func walk(_ visit: (ImageFileEntry) throws -> Void) rethrows { try stack.walk(visit) }
    public func layer(of path: String) -> String? { stack.entry(path) == nil ? nil : layerID }
    public func symlinkTarget(_ path: String) -> String? { stack.symlinkTarget(path) }
    public func hostPath(_ path: String) -> String? { stack.regularHostPath(path) }
}
