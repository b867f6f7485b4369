/// A read-only view of an image's files as a container would see them (every layer
/// applied, whiteouts honoured), which catalogers read package metadata from. Paths are
/// absolute in the image (`/var/lib/dpkg/status`); symlinks are not followed unless a
/// method says so.
public protocol ImageFiles: Sendable {
    /// The whole file at `path` if it is a regular file no larger than `limit` bytes.
    func contents(_ path: String, limit: Int) -> [UInt8]?
    /// `count` bytes of the regular file at `path` from `offset` (fewer at its end).
    func read(_ path: String, offset: Int, count: Int) -> [UInt8]?
    /// The names in the directory at `path`, or nil where there is none.
    func list(_ directory: String) -> [String]?
    /// Every regular file of the image, in no promised order.
    func walk(_ visit: (ImageFileEntry) throws -> Void) rethrows
    /// The diff id of the layer that gave the visible file at `path`.
    func layer(of path: String) -> String?
    /// What the symbolic link at `path` points to, as written in the link (relative or
    /// absolute in the image), or nil where `path` is not a symbolic link.
    func symlinkTarget(_ path: String) -> String?
    /// A path on this machine holding the bytes of the regular file at `path`, for
    /// readers that need a real file (SQLite); nil where the view has none. Never write
    /// through it: it is the image's own copy.
    func hostPath(_ path: String) -> String?
}

extension ImageFiles {
    /// Views without symbolic links (archives read in memory, test fakes) need not say so.
    public func symlinkTarget(_ path: String) -> String? { nil }
    /// Views with no files on this machine leave callers to make a temporary copy.
    public func hostPath(_ path: String) -> String? { nil }
}

/// A regular file of an image, as `ImageFiles.walk` visits it.
public struct ImageFileEntry: Sendable, Hashable {
    public var path: String
    /// The permission bits and type, as `st_mode`.
    public var mode: UInt32
    public var size: Int
    /// The diff id of the layer the file comes from, where known.
    public var layer: String?

    public init(path: String, mode: UInt32, size: Int, layer: String?) {
        self.path = path
        self.mode = mode
        self.size = size
        self.layer = layer
    }

    public var isExecutable: Bool { mode & 0o111 != 0 }
}
