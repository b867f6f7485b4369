import CaissonJSON
import CaissonSys

/// npm packages: every installed `node_modules/[@scope/]NAME/package.json`, and every
/// `package-lock.json` outside `node_modules` (lockfileVersion 1, 2 or 3). A package
/// both describe (the lock's install path holds that package.json) is reported once,
/// from its package.json, with the lock file as a second location; a lock entry whose
/// install path holds no package.json (an image with the lock but without
/// node_modules) is reported from the lock.
///
/// Layer: the lowest layer from which the package.json (or, for lock-only packages, the
/// lock file) gives this name and version in every view up to the top.
public struct NodePackageCataloger: PackageCataloger {
    static let sizeLimit = 64 << 20

    public let name = "npm"

    public init() {}

    public func selects(_ file: ImageFileEntry) -> Bool {
        if NodeModulesPath.isInstalledManifest(file.path) { return true }
        return Paths.base(file.path) == "package-lock.json" && !file.path.contains("/node_modules/")
    }

    public func catalog(_ context: CatalogContext) -> CatalogerOutput {
        var output = CatalogerOutput()
        let files = context.files
        let attribution = LayerAttribution(files: files)
        var indexByManifest: [String: Int] = [:]
        let manifests = context.selectedFiles.filter { Paths.base($0.path) == "package.json" }
        let locks = context.selectedFiles.filter { Paths.base($0.path) == "package-lock.json" }
        for file in manifests {
            let manifest: NodePackageManifest?
            do {
                manifest = try readManifest(file.path, files)
            } catch {
                output.problems.append(error)
                continue
            }
            guard let manifest else { continue }
            let layer = attribution.lowestLayer(watching: [file.path]) { view, _ in
                guard let earlier = try? readManifest(file.path, view) else { return false }
                return earlier.name == manifest.name && earlier.version == manifest.version
            }
            indexByManifest[file.path] = output.packages.count
            output.packages.append(package(manifest.name, manifest.version, manifest.licenses, location: file.path, layer: layer))
        }
        for file in locks {
            let entries: [NodeLockEntry]
            do {
                entries = try readLock(file.path, files)
            } catch {
                output.problems.append(error)
                continue
            }
            let directory = Paths.parent(file.path)
            var entriesByView: [Int: Set<NodeLockEntry>] = [:]
            for entry in entries {
                let manifestPath = Paths.clean(directory + "/" + entry.installPath + "/package.json")
                if let index = indexByManifest[manifestPath] {
                    if output.packages[index].name == entry.name && output.packages[index].version == entry.version {
                        output.packages[index].locations.append(file.path)
                    }
                    continue
                }
                let layer = attribution.lowestLayer(watching: [file.path]) { view, index in
                    if entriesByView[index] == nil { entriesByView[index] = Set((try? readLock(file.path, view)) ?? []) }
                    return entriesByView[index]!.contains(entry)
                }
                output.packages.append(package(entry.name, entry.version, entry.licenses, location: file.path, layer: layer))
            }
        }
        return output
    }

    private func package(_ name: String, _ version: String, _ licenses: [String], location: String, layer: String?) -> CatalogedPackage {
        var namespace: String? = nil
        var bareName = name
        if name.hasPrefix("@"), let slash = name.firstIndex(of: "/") {
            namespace = String(name[..<slash])
            bareName = String(name[name.index(after: slash)...])
        }
        let purl = PackageURL(type: "npm", namespace: namespace, name: bareName, version: version)
        return CatalogedPackage(name: name, version: version, ecosystem: .npm, locations: [location], layer: layer,
                                licenses: licenses, purl: purl.description)
    }

    private func readJSON(_ path: String, _ files: any ImageFiles) throws(CatalogProblem) -> JSONValue {
        guard let bytes = files.contents(path, limit: Self.sizeLimit) else {
            throw CatalogProblem(cataloger: name, path: path, reason: "not a readable regular file of at most \(Self.sizeLimit) bytes")
        }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw CatalogProblem(cataloger: name, path: path, reason: error.description)
        }
    }

    private func readManifest(_ path: String, _ files: any ImageFiles) throws(CatalogProblem) -> NodePackageManifest? {
        NodePackageManifest(try readJSON(path, files))
    }

    private func readLock(_ path: String, _ files: any ImageFiles) throws(CatalogProblem) -> [NodeLockEntry] {
        let json = try readJSON(path, files)
        do {
            return try NodePackageLock.entries(json)
        } catch {
            throw CatalogProblem(cataloger: name, path: path, reason: error.description)
        }
    }
}
