/// One package found in an image's layers: what `caisson sbom` lists and what
/// `caisson scan` looks up in the vulnerability database. Catalogers make these from the
/// package managers' own metadata (never by running the image).
public struct CatalogedPackage: Sendable, Hashable, Codable {
    /// The package's name as its ecosystem spells it (dpkg's `Package`, PyPI's `Name`,
    /// a Go module path, `groupId:artifactId` for Maven).
    public var name: String
    public var version: String
    public var ecosystem: PackageEcosystem
    /// Paths in the image of the metadata the package was read from (the dpkg status
    /// file, a dist-info directory's METADATA, a binary, a jar), first the main one.
    public var locations: [String]
    /// The diff id (`sha256:...`) of the lowest layer from which the package is present
    /// with this version up to the top, where the tree knows its layers.
    public var layer: String?
    /// License expressions or names, as the metadata gives them.
    public var licenses: [String]
    /// The source package (dpkg `Source`, RPM source rpm, apk origin) when it differs
    /// from or names the binary one: Debian advisories name source packages.
    public var sourceName: String?
    public var sourceVersion: String?
    /// The package URL (purl spec) identifying the package in SBOM documents.
    public var purl: String
    /// The paths the package manager records as installed by the package (dpkg's
    /// `info/NAME.list`, which includes directories; apk's `F:`/`R:` lines; rpm's file
    /// names; a wheel's RECORD), absolute in the image, where the metadata lists them:
    /// what lets a binary cataloger skip files an OS package owns.
    public var files: [String]

    public init(name: String, version: String, ecosystem: PackageEcosystem, locations: [String],
                layer: String? = nil, licenses: [String] = [], sourceName: String? = nil,
                sourceVersion: String? = nil, purl: String, files: [String] = []) {
        self.name = name
        self.version = version
        self.ecosystem = ecosystem
        self.locations = locations
        self.layer = layer
        self.licenses = licenses
        self.sourceName = sourceName
        self.sourceVersion = sourceVersion
        self.purl = purl
        self.files = files
    }
}

/// The package ecosystems catalogers know, named as the OSV schema names them (an
/// operating system's ecosystem gets its release appended when matched, e.g.
/// `Debian:12`, from the image's `/etc/os-release`).
public enum PackageEcosystem: String, Sendable, Hashable, Codable, CaseIterable {
    case debian = "Debian"
    case ubuntu = "Ubuntu"
    case alpine = "Alpine"
    case rpm = "RPM"
    case pypi = "PyPI"
    case npm = "npm"
    case go = "Go"
    case cratesIO = "crates.io"
    case maven = "Maven"
}

/// The operating system an image says it is (`/etc/os-release`, or
/// `/usr/lib/os-release`): `ID`, `VERSION_ID`, `PRETTY_NAME` and `ID_LIKE`.
public struct OperatingSystem: Sendable, Hashable, Codable {
    public var id: String
    public var versionID: String?
    public var prettyName: String?
    public var idLike: [String]

    public init(id: String, versionID: String?, prettyName: String?, idLike: [String]) {
        self.id = id
        self.versionID = versionID
        self.prettyName = prettyName
        self.idLike = idLike
    }
}
