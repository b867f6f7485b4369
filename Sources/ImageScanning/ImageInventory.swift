#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import ImageSpec
import Images
import SBOM

/// What an image holds, catalogued once: `caisson sbom`, `caisson scan` and the policy
/// gate ask for an image's packages, and an image's layers never change (its id is the
/// digest of its config, which names their digests), so the catalogue is kept in
/// `ROOT/sbom/<image id>.json` and read back on later asks. A catalogue made by an older
/// version of the catalogers is made again.
public struct ImageInventory: Sendable {
    /// Bumped whenever the catalogers' output changes, so older cached catalogues are
    /// made again.
    public static let catalogVersion = 3

    let service: ImageService
    let directory: String

    public init(service: ImageService) {
        self.service = service
        directory = service.root + "/sbom"
    }

    /// The image's operating system and packages, from the cache or its layers.
    public func catalog(_ record: ImageRecord) throws(ScanError) -> ImageCatalog {
        let path = "\(directory)/\(record.id.encoded).json"
        if let bytes = try? Files.readBytes(path), let cached = CatalogFile.decode(bytes) {
            return cached
        }
        let catalog = try make(record)
        do {
            try Files.makeDirectories(directory, mode: 0o700)
            try Files.writeAtomically(path, bytes: CatalogFile.encode(catalog))
        } catch {
            // A catalogue that cannot be kept is still the answer.
        }
        sweep()
        return catalog
    }

    /// Reads the layers: nothing of the image runs.
    func make(_ record: ImageRecord) throws(ScanError) -> ImageCatalog {
        let layers: LayerDirectories
        do {
            layers = try service.layerDirectories(of: record)
        } catch {
            throw .image(error)
        }
        defer { layers.release() }
        let files = LayeredImageFiles(layers: layers.layers.map { (diffID: $0.diffID.description, path: $0.path) })
        let result = CatalogRun().run(files)
        return ImageCatalog(catalogVersion: ImageInventory.catalogVersion, imageID: record.id.description,
                            operatingSystem: result.operatingSystem, packages: result.packages,
                            problems: result.problems.map(\.description))
    }

    /// Catalogues of images no longer on this machine are removed.
    func sweep() {
        guard let records = try? service.list() else { return }
        // ID.json (the catalogue) and ID.findings.json (FindingsCache) go with the image.
        let present = Set(records.map(\.id.encoded))
        for name in (try? Files.listDirectory(directory)) ?? []
        where name.hasSuffix(".json") && !present.contains(String(name.prefix { $0 != "." })) {
            unlink(directory + "/" + name)
        }
    }
}

/// One image's catalogue, as cached.
public struct ImageCatalog: Sendable, Codable {
    public var catalogVersion: Int
    public var imageID: String
    public var operatingSystem: OperatingSystem?
    public var packages: [CatalogedPackage]
    /// Metadata files a cataloger could not read ("dpkg: /var/lib/dpkg/status: ...").
    public var problems: [String]
}
