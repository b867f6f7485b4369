/// A software bill of materials for one image: what `caisson sbom` prints, as a table
/// or as SPDX 2.3 or CycloneDX 1.5 JSON. The time and the document's UUID come from the
/// caller (`SBOMTimestamp.now()`, `SBOMUUID.random()`) so that a test can fix them.
public struct SBOMDocument: Sendable {
    /// The image as the user named it ("docker.io/library/debian:12").
    public var imageName: String
    /// The image id: its config's digest ("sha256:...").
    public var imageID: String
    /// The manifest digest, where the image came from a registry.
    public var imageDigest: String?
    public var operatingSystem: OperatingSystem?
    public var packages: [CatalogedPackage]
    public var toolName: String
    public var toolVersion: String
    public var created: SBOMTimestamp
    /// SPDX's documentNamespace and CycloneDX's serialNumber are made from it.
    public var serial: SBOMUUID

    public init(imageName: String, imageID: String, imageDigest: String? = nil, operatingSystem: OperatingSystem?,
                packages: [CatalogedPackage], toolName: String = "caisson", toolVersion: String,
                created: SBOMTimestamp, serial: SBOMUUID) {
        self.imageName = imageName
        self.imageID = imageID
        self.imageDigest = imageDigest
        self.operatingSystem = operatingSystem
        self.packages = packages
        self.toolName = toolName
        self.toolVersion = toolVersion
        self.created = created
        self.serial = serial
    }

    /// syft's table: NAME, VERSION and TYPE columns.
    public func table() -> String { SBOMTable.render(self) }

    /// SPDX 2.3, JSON.
    public func spdxJSON() -> [UInt8] { SPDXDocumentWriter(document: self).render() }

    /// CycloneDX 1.5, JSON.
    public func cycloneDXJSON() -> [UInt8] { CycloneDXDocumentWriter(document: self).render() }
}
