import CaissonJSON

/// An SBOM as an SPDX 2.3 JSON document: the image as the described package (purpose
/// CONTAINER), its operating system and every cataloged package as packages it
/// CONTAINS, each package with its purl as a PACKAGE-MANAGER external reference.
/// Licenses that are SPDX expressions are declared as such; other license names become
/// `LicenseRef-` ids with their text in `hasExtractedLicensingInfos`, as SPDX requires.
struct SPDXDocumentWriter {
    /// documentNamespace is this base, the image name and the document's UUID.
    static let namespaceBase = "https://spdx.org/spdxdocs/caisson"

    let document: SBOMDocument
    private var licenseReferences = LicenseReferences()

    init(document: SBOMDocument) {
        self.document = document
    }

    func render() -> [UInt8] {
        var writer = self
        return JSONEncoding.serialize(writer.build(), pretty: true) + [0x0A]
    }

    private mutating func build() -> JSONValue {
        let imageID = "SPDXRef-DocumentRoot-Image-" + SPDXIdentifier.sanitized(document.imageName)
        var packages: [JSONValue] = [imagePackage(imageID)]
        var relationships: [JSONValue] = [relationship("SPDXRef-DOCUMENT", "DESCRIBES", imageID)]
        if let os = document.operatingSystem {
            let id = "SPDXRef-OperatingSystem-" + SPDXIdentifier.sanitized(os.id)
            packages.append(jsonObject([
                "name": .string(os.id),
                "SPDXID": .string(id),
                "versionInfo": .text(os.versionID),
                "downloadLocation": .string("NOASSERTION"),
                "filesAnalyzed": .bool(false),
                "licenseConcluded": .string("NOASSERTION"),
                "licenseDeclared": .string("NOASSERTION"),
                "copyrightText": .string("NOASSERTION"),
                "description": .text(os.prettyName),
                "primaryPackagePurpose": .string("OPERATING_SYSTEM"),
            ]))
            relationships.append(relationship(imageID, "CONTAINS", id))
        }
        for (index, package) in document.packages.enumerated() {
            let id = "SPDXRef-Package-\(SBOMTable.typeName(package.ecosystem))-\(SPDXIdentifier.sanitized(package.name))-\(index + 1)"
            packages.append(packageObject(package, id: id))
            relationships.append(relationship(imageID, "CONTAINS", id))
        }
        let extracted: [JSONValue] = licenseReferences.all.map { reference in
            jsonObject(["licenseId": .string(reference.id), "extractedText": .string(reference.name), "name": .string(reference.name)])
        }
        return jsonObject([
            "spdxVersion": .string("SPDX-2.3"),
            "dataLicense": .string("CC0-1.0"),
            "SPDXID": .string("SPDXRef-DOCUMENT"),
            "name": .string(document.imageName),
            "documentNamespace": .string(namespace),
            "creationInfo": jsonObject([
                "licenseListVersion": .string(SPDXLicenseList.version),
                "creators": .array([.string("Tool: \(document.toolName)-\(document.toolVersion)")]),
                "created": .string(document.created.rfc3339),
            ]),
            "packages": .array(packages),
            "hasExtractedLicensingInfos": extracted.isEmpty ? nil : .array(extracted),
            "relationships": .array(relationships),
        ])
    }

    private var namespace: String {
        "\(Self.namespaceBase)/\(URIPath.escaped(document.imageName))-\(document.serial)"
    }

    private func imagePackage(_ id: String) -> JSONValue {
        var checksums: JSONValue? = nil
        if document.imageID.hasPrefix("sha256:") {
            checksums = .array([jsonObject(["algorithm": .string("SHA256"), "checksumValue": .string(String(document.imageID.dropFirst(7)))])])
        }
        return jsonObject([
            "name": .string(document.imageName),
            "SPDXID": .string(id),
            "versionInfo": .string(document.imageID),
            "downloadLocation": .string("NOASSERTION"),
            "filesAnalyzed": .bool(false),
            "checksums": checksums,
            "licenseConcluded": .string("NOASSERTION"),
            "licenseDeclared": .string("NOASSERTION"),
            "copyrightText": .string("NOASSERTION"),
            "comment": .text(document.imageDigest.map { "manifest digest \($0)" }),
            "primaryPackagePurpose": .string("CONTAINER"),
        ])
    }

    private mutating func packageObject(_ package: CatalogedPackage, id: String) -> JSONValue {
        var comment: [String] = []
        if let layer = package.layer { comment.append("layer \(layer)") }
        if let source = package.sourceName {
            comment.append("source package \(source)" + (package.sourceVersion.map { " \($0)" } ?? ""))
        }
        return jsonObject([
            "name": .string(package.name),
            "SPDXID": .string(id),
            "versionInfo": .string(package.version),
            "downloadLocation": .string("NOASSERTION"),
            "filesAnalyzed": .bool(false),
            "sourceInfo": .string("acquired package info from " + package.locations.joined(separator: ", ")),
            "licenseConcluded": .string("NOASSERTION"),
            "licenseDeclared": .string(declaredLicense(package.licenses)),
            "copyrightText": .string("NOASSERTION"),
            "comment": comment.isEmpty ? nil : .string(comment.joined(separator: "; ")),
            "externalRefs": package.purl.isEmpty ? nil : .array([jsonObject([
                "referenceCategory": .string("PACKAGE-MANAGER"),
                "referenceType": .string("purl"),
                "referenceLocator": .string(package.purl),
            ])]),
            "primaryPackagePurpose": .string("LIBRARY"),
        ])
    }

    /// One expression for all of a package's licenses (they apply together: a DEP-5
    /// file's licenses cover different files), "NOASSERTION" without any.
    private mutating func declaredLicense(_ licenses: [String]) -> String {
        var parts: [String] = []
        for license in licenses {
            let part: String
            switch SPDXLicenseExpression.classify(license) {
            case .identifier(let identifier): part = identifier
            case .expression(let expression): part = expression
            case .name(let name): part = licenseReferences.reference(for: name)
            }
            if !parts.contains(part) { parts.append(part) }
        }
        if parts.isEmpty { return "NOASSERTION" }
        if parts.count == 1 { return parts[0] }
        return parts.map { $0.contains(" ") ? "(\($0))" : $0 }.joined(separator: " AND ")
    }

    private func relationship(_ element: String, _ type: String, _ related: String) -> JSONValue {
        jsonObject(["spdxElementId": .string(element), "relationshipType": .string(type), "relatedSpdxElement": .string(related)])
    }
}

/// `LicenseRef-` ids for license names that are not SPDX expressions, one a name, each
/// id unique in the document.
struct LicenseReferences {
    private(set) var all: [(id: String, name: String)] = []
    private var byName: [String: String] = [:]

    mutating func reference(for name: String) -> String {
        if let id = byName[name] { return id }
        let base = "LicenseRef-" + SPDXIdentifier.sanitized(name)
        var id = base
        var counter = 1
        while all.contains(where: { $0.id == id }) {
            counter += 1
            id = "\(base)-\(counter)"
        }
        byName[name] = id
        all.append((id, name))
        return id
    }
}

/// Percent-encoding for a URI path built from an image name.
enum URIPath {
    static func escaped(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "@"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
