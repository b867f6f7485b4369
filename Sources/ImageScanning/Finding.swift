import SBOM
import VulnerabilityDB

/// One vulnerable package of an image: the package as catalogued, the advisory that
/// names it, and what a user needs to act (severity, the fixed versions).
public struct Finding: Sendable, Codable {
    public var package: CatalogedPackage
    public var advisoryID: String
    /// Other ids of the same vulnerability (CVE ids, GHSA ids).
    public var aliases: [String]
    public var summary: String?
    public var severity: Severity
    /// The CVSS base score the severity comes from, where there was a vector.
    public var score: Double?
    /// Versions that fix it; empty when the advisory names none ("no fix yet").
    public var fixedVersions: [String]
    /// The name and version the advisory was matched on: the source package for Debian
    /// and Alpine, else the package itself.
    public var matchedName: String
    public var matchedVersion: String

    /// The advisory's CVE id, where it has one (its own id or an alias).
    public var cve: String? {
        advisoryID.hasPrefix("CVE-") ? advisoryID : aliases.first { $0.hasPrefix("CVE-") }
    }
}
