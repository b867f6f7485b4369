/// One kind of package metadata an image can hold (the dpkg database, Python
/// dist-info directories, ...), read into `CatalogedPackage`s. A cataloger reads files
/// only, never runs anything from the image, and reports a broken metadata file as a
/// problem without giving up on the others.
public protocol PackageCataloger: Sendable {
    /// A short name for reports: "dpkg", "python".
    var name: String { get }
    /// Whether the cataloger wants `file` from the one walk over the image that
    /// `CatalogRun` makes (false for all when it reads fixed paths only).
    func selects(_ file: ImageFileEntry) -> Bool
    func catalog(_ context: CatalogContext) -> CatalogerOutput
}

/// What a cataloger gets to work with.
public struct CatalogContext: Sendable {
    public var files: any ImageFiles
    /// The image's operating system, which names the vendor in OS packages' purls.
    public var operatingSystem: OperatingSystem?
    /// The files of the walk that the cataloger selected, in walk order.
    public var selectedFiles: [ImageFileEntry]

    public init(files: any ImageFiles, operatingSystem: OperatingSystem?, selectedFiles: [ImageFileEntry] = []) {
        self.files = files
        self.operatingSystem = operatingSystem
        self.selectedFiles = selectedFiles
    }
}

/// The packages a cataloger found, and what it could not read.
public struct CatalogerOutput: Sendable {
    public var packages: [CatalogedPackage]
    public var problems: [CatalogProblem]

    public init(packages: [CatalogedPackage] = [], problems: [CatalogProblem] = []) {
        self.packages = packages
        self.problems = problems
    }
}

/// A metadata file a cataloger could not use, and why: "dpkg: /var/lib/dpkg/status:
/// paragraph 12 (Package: libc6): no Version field".
public struct CatalogProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var cataloger: String
    public var path: String
    public var reason: String

    public init(cataloger: String, path: String, reason: String) {
        self.cataloger = cataloger
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(cataloger): \(path): \(reason)" }
}
