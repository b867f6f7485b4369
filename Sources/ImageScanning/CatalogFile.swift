import CaissonJSON
import SBOM

/// The cached catalogue's JSON, written and read by hand: every scan reads it, and
/// walking the parsed document directly costs a fraction of the Codable route.
enum CatalogFile {
    static func encode(_ catalog: ImageCatalog) -> [UInt8] {
        var root = JSONObject()
        root.set("catalogVersion", .number(String(catalog.catalogVersion)))
        root.set("imageID", .string(catalog.imageID))
        if let os = catalog.operatingSystem {
            var object = JSONObject()
            object.set("id", .string(os.id))
            if let version = os.versionID { object.set("versionID", .string(version)) }
            if let name = os.prettyName { object.set("prettyName", .string(name)) }
            object.set("idLike", .array(os.idLike.map { .string($0) }))
            root.set("operatingSystem", .object(object))
        }
        root.set("packages", .array(catalog.packages.map(packageJSON)))
        root.set("problems", .array(catalog.problems.map { .string($0) }))
        return JSONEncoding.serialize(.object(root))
    }

    static func packageJSON(_ package: CatalogedPackage) -> JSONValue {
            var object = JSONObject()
            object.set("name", .string(package.name))
            object.set("version", .string(package.version))
            object.set("ecosystem", .string(package.ecosystem.rawValue))
            object.set("locations", .array(package.locations.map { .string($0) }))
            if let layer = package.layer { object.set("layer", .string(layer)) }
            object.set("licenses", .array(package.licenses.map { .string($0) }))
            if let source = package.sourceName { object.set("sourceName", .string(source)) }
            if let version = package.sourceVersion { object.set("sourceVersion", .string(version)) }
            object.set("purl", .string(package.purl))
            return .object(object)
    }

    static func string(_ object: JSONObject, _ key: String) -> String? {
        if case .string(let text)? = object[key] { return text }
        return nil
    }

    static func strings(_ object: JSONObject, _ key: String) -> [String] {
        guard case .array(let values)? = object[key] else { return [] }
        return values.compactMap { if case .string(let text) = $0 { return text }; return nil }
    }

    static func package(_ value: JSONValue) -> CatalogedPackage? {
        guard case .object(let object) = value, let name = string(object, "name"), let version = string(object, "version"),
              let ecosystem = string(object, "ecosystem").flatMap(PackageEcosystem.init(rawValue:)),
              let purl = string(object, "purl") else { return nil }
        return CatalogedPackage(name: name, version: version, ecosystem: ecosystem, locations: strings(object, "locations"),
                                layer: string(object, "layer"), licenses: strings(object, "licenses"),
                                sourceName: string(object, "sourceName"), sourceVersion: string(object, "sourceVersion"), purl: purl)
    }

    /// nil for anything but a whole catalogue of this version.
    static func decode(_ bytes: [UInt8]) -> ImageCatalog? {
        guard case .object(let root)? = try? JSONParser.parse(bytes),
              case .number(let version)? = root["catalogVersion"], Int(version) == ImageInventory.catalogVersion,
              case .string(let imageID)? = root["imageID"], case .array(let items)? = root["packages"] else { return nil }
        var os: OperatingSystem?
        if case .object(let object)? = root["operatingSystem"], let id = string(object, "id") {
            os = OperatingSystem(id: id, versionID: string(object, "versionID"), prettyName: string(object, "prettyName"),
                                 idLike: strings(object, "idLike"))
        }
        var packages: [CatalogedPackage] = []
        packages.reserveCapacity(items.count)
        for item in items {
            guard let package = package(item) else { return nil }
            packages.append(package)
        }
        return ImageCatalog(catalogVersion: ImageInventory.catalogVersion, imageID: imageID, operatingSystem: os,
                            packages: packages, problems: strings(root, "problems"))
    }
}
