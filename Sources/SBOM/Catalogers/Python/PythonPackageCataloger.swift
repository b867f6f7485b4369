import CaissonSys

/// Python distributions installed anywhere in the image (site-packages, dist-packages,
/// a `pip install --target` directory, a virtualenv): every `*.dist-info/METADATA`, and
/// every egg-info in its directory (`*.egg-info/PKG-INFO`) or single-file form. Each
/// installed copy is its own package, located by its metadata file; a wheel's RECORD
/// gives its files.
///
/// Layer: the lowest layer from which the metadata file has this name and version in
/// every view up to the top.
public struct PythonPackageCataloger: PackageCataloger {
    static let sizeLimit = 16 << 20

    public let name = "python"

    public init() {}

    public func selects(_ file: ImageFileEntry) -> Bool {
        file.path.hasSuffix(".dist-info/METADATA") || file.path.hasSuffix(".egg-info/PKG-INFO") || file.path.hasSuffix(".egg-info")
    }

    public func catalog(_ context: CatalogContext) -> CatalogerOutput {
        var output = CatalogerOutput()
        let attribution = LayerAttribution(files: context.files)
        for file in context.selectedFiles {
            let metadata: (name: String, version: String, licenses: [String])
            do {
                metadata = try read(file.path, context.files)
            } catch {
                output.problems.append(error)
                continue
            }
            let layer = attribution.lowestLayer(watching: [file.path]) { view, _ in
                guard let earlier = try? read(file.path, view) else { return false }
                return earlier.name == metadata.name && earlier.version == metadata.version
            }
            var locations = [file.path]
            var installed: [String] = []
            let distInfo = Paths.parent(file.path)
            if file.path.hasSuffix("/METADATA"), let record = context.files.contents(distInfo + "/RECORD", limit: Self.sizeLimit) {
                locations.append(distInfo + "/RECORD")
                installed = WheelRecord.paths(String(decoding: record, as: UTF8.self), installRoot: Paths.parent(distInfo))
            }
            let purl = PackageURL(type: "pypi", name: metadata.name, version: metadata.version)
            output.packages.append(CatalogedPackage(
                name: metadata.name, version: metadata.version, ecosystem: .pypi, locations: locations, layer: layer,
                licenses: metadata.licenses, purl: purl.description, files: installed))
        }
        return output
    }

    private func read(_ path: String, _ files: any ImageFiles) throws(CatalogProblem) -> (name: String, version: String, licenses: [String]) {
        guard let bytes = files.contents(path, limit: Self.sizeLimit) else {
            throw CatalogProblem(cataloger: name, path: path, reason: "not a readable regular file of at most \(Self.sizeLimit) bytes")
        }
        let metadata = CoreMetadata(String(decoding: bytes, as: UTF8.self))
        guard let packageName = metadata["Name"], !packageName.isEmpty else {
            throw CatalogProblem(cataloger: name, path: path, reason: "no Name field")
        }
        guard let version = metadata["Version"], !version.isEmpty else {
            throw CatalogProblem(cataloger: name, path: path, reason: "package \(packageName): no Version field")
        }
        return (packageName, version, metadata.licenses)
    }
}
