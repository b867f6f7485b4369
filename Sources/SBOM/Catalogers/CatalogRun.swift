/// Everything `caisson sbom` lists for one image: the OS from os-release, then every
/// cataloger over one walk of the image's files. A cataloger that cannot read a file
/// reports it and the others go on; the problems come back with the packages.
public struct CatalogRun: Sendable {
    public var catalogers: [any PackageCataloger]

    /// The catalogers of OS packages and of language package managers' metadata.
    public static let standardCatalogers: [any PackageCataloger] = [
        DpkgCataloger(), ApkCataloger(), RPMDatabaseCataloger(), PythonPackageCataloger(), NodePackageCataloger(),
        GoBinaryCataloger(), RustBinaryCataloger(), JavaArchiveCataloger(),
    ]

    public init(catalogers: [any PackageCataloger] = CatalogRun.standardCatalogers) {
        self.catalogers = catalogers
    }

    public func run(_ files: any ImageFiles) -> CatalogResult {
        var result = CatalogResult()
        do {
            result.operatingSystem = try OSReleaseReader().read(files)
        } catch {
            result.problems.append(error)
        }
        var selected = [[ImageFileEntry]](repeating: [], count: catalogers.count)
        files.walk { file in
            for (index, cataloger) in catalogers.enumerated() where cataloger.selects(file) {
                selected[index].append(file)
            }
        }
        for (index, cataloger) in catalogers.enumerated() {
            let output = cataloger.catalog(CatalogContext(files: files, operatingSystem: result.operatingSystem,
                                                          selectedFiles: selected[index]))
            result.packages += output.packages
            result.problems += output.problems
        }
        result.packages.sort(by: CatalogResult.isOrderedBefore)
        return result
    }
}

/// The image's operating system, its packages sorted by ecosystem (OS packages
/// first, in `PackageEcosystem`'s order), name and version, and what could not be read.
public struct CatalogResult: Sendable {
    public var operatingSystem: OperatingSystem?
    public var packages: [CatalogedPackage] = []
    public var problems: [CatalogProblem] = []

    public init(operatingSystem: OperatingSystem? = nil, packages: [CatalogedPackage] = [], problems: [CatalogProblem] = []) {
        self.operatingSystem = operatingSystem
        self.packages = packages
        self.problems = problems
    }

    static let ecosystemOrder: [PackageEcosystem: Int] = Dictionary(
        uniqueKeysWithValues: PackageEcosystem.allCases.enumerated().map { ($0.element, $0.offset) })

    public static func isOrderedBefore(_ a: CatalogedPackage, _ b: CatalogedPackage) -> Bool {
        let ecosystemA = ecosystemOrder[a.ecosystem]!, ecosystemB = ecosystemOrder[b.ecosystem]!
        if ecosystemA != ecosystemB { return ecosystemA < ecosystemB }
        if a.name != b.name { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
        if a.version != b.version { return a.version.utf8.lexicographicallyPrecedes(b.version.utf8) }
        return (a.locations.first ?? "").utf8.lexicographicallyPrecedes((b.locations.first ?? "").utf8)
    }
}
