import CaissonJSON

/// An SBOM as a CycloneDX 1.5 JSON document: the image as the metadata's component
/// (type container), its operating system and every cataloged package as components
/// with their purls, and the image depending on all of them. Licenses are SPDX ids where
/// they are one, a single SPDX expression where the metadata gives expressions, names
/// otherwise (the schema allows either a list of licenses or one expression, not both).
/// The layer, locations and source package go in `caisson:` properties.
struct CycloneDXDocumentWriter {
    let document: SBOMDocument

    func render() -> [UInt8] {
        JSONEncoding.serialize(build(), pretty: true) + [0x0A]
    }

    private func build() -> JSONValue {
        let imageReference = "image:" + document.imageID
        var components: [JSONValue] = []
        var references: [JSONValue] = []
        if let os = document.operatingSystem {
            let reference = "os:" + os.id
            components.append(jsonObject([
                "bom-ref": .string(reference),
                "type": .string("operating-system"),
                "name": .string(os.id),
                "version": .text(os.versionID),
                "description": .text(os.prettyName),
            ]))
            references.append(.string(reference))
        }
        for (index, package) in document.packages.enumerated() {
            let reference = "package:\(index + 1):" + (package.purl.isEmpty ? package.name : package.purl)
            components.append(component(package, reference: reference))
            references.append(.string(reference))
        }
        return jsonObject([
            "$schema": .string("http://cyclonedx.org/schema/bom-1.5.schema.json"),
            "bomFormat": .string("CycloneDX"),
            "specVersion": .string("1.5"),
            "serialNumber": .string("urn:uuid:\(document.serial)"),
            "version": .number("1"),
            "metadata": jsonObject([
                "timestamp": .string(document.created.rfc3339),
                "tools": jsonObject([
                    "components": .array([jsonObject([
                        "type": .string("application"),
                        "name": .string(document.toolName),
                        "version": .string(document.toolVersion),
                    ])]),
                ]),
                "component": imageComponent(imageReference),
            ]),
            "components": .array(components),
            "dependencies": .array([jsonObject(["ref": .string(imageReference), "dependsOn": .array(references)])]),
        ])
    }

    private func imageComponent(_ reference: String) -> JSONValue {
        var hashes: JSONValue? = nil
        if document.imageID.hasPrefix("sha256:") {
            hashes = .array([jsonObject(["alg": .string("SHA-256"), "content": .string(String(document.imageID.dropFirst(7)))])])
        }
        var properties: [JSONValue] = []
        if let digest = document.imageDigest { properties.append(property("caisson:image:manifest-digest", digest)) }
        return jsonObject([
            "bom-ref": .string(reference),
            "type": .string("container"),
            "name": .string(document.imageName),
            "version": .string(document.imageID),
            "hashes": hashes,
            "properties": properties.isEmpty ? nil : .array(properties),
        ])
    }

    private func component(_ package: CatalogedPackage, reference: String) -> JSONValue {
        var properties: [JSONValue] = [property("caisson:package:ecosystem", package.ecosystem.rawValue)]
        if let layer = package.layer { properties.append(property("caisson:package:layer", layer)) }
        for location in package.locations { properties.append(property("caisson:package:location", location)) }
        if let source = package.sourceName { properties.append(property("caisson:package:source-name", source)) }
        if let version = package.sourceVersion { properties.append(property("caisson:package:source-version", version)) }
        return jsonObject([
            "bom-ref": .string(reference),
            "type": .string("library"),
            "name": .string(package.name),
            "version": .string(package.version),
            "licenses": licenses(package.licenses),
            "purl": package.purl.isEmpty ? nil : .string(package.purl),
            "properties": .array(properties),
        ])
    }

    /// nil without licenses (an empty list would match both of the schema's choices).
    private func licenses(_ names: [String]) -> JSONValue? {
        guard !names.isEmpty else { return nil }
        let kinds = names.map(SPDXLicenseExpression.classify)
        var expressions: [String] = []
        for kind in kinds {
            switch kind {
            case .identifier(let identifier): expressions.append(identifier)
            case .expression(let expression): expressions.append(expression)
            case .name: break
            }
        }
        let hasCompound = kinds.contains { if case .expression = $0 { return true } else { return false } }
        if hasCompound && expressions.count == kinds.count {
            var unique: [String] = []
            for expression in expressions where !unique.contains(expression) { unique.append(expression) }
            let combined = unique.count == 1 ? unique[0] : unique.map { $0.contains(" ") ? "(\($0))" : $0 }.joined(separator: " AND ")
            return .array([jsonObject(["expression": .string(combined)])])
        }
        var seen: Set<String> = []
        return .array(kinds.compactMap { kind -> JSONValue? in
            let (key, value): (String, String)
            switch kind {
            case .identifier(let identifier): (key, value) = ("id", identifier)
            case .expression(let text), .name(let text): (key, value) = ("name", text)
            }
            guard seen.insert(key + ":" + value).inserted else { return nil }
            return jsonObject(["license": jsonObject([key: .string(value)])])
        })
    }

    private func property(_ name: String, _ value: String) -> JSONValue {
        jsonObject(["name": .string(name), "value": .string(value)])
    }
}
