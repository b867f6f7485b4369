/// Which ordering a package's versions follow: each ecosystem has its own, and a scan
/// that compares versions with the wrong one reports wrong findings.
public enum VersionScheme: String, Sendable, CaseIterable {
    case dpkg, apk, rpm, pep440, semver, goModule, maven

    /// The scheme of an OSV ecosystem name ("Debian:12", "Alpine:v3.18", "PyPI", ...);
    /// nil for ecosystems without a known ordering.
    public init?(osvEcosystem: String) {
        let base = osvEcosystem.split(separator: ":", maxSplits: 1).first.map(String.init) ?? osvEcosystem
        switch base {
        case "Debian", "Ubuntu": self = .dpkg
        case "Alpine", "Wolfi", "Chainguard": self = .apk
        case "Red Hat", "Rocky Linux", "AlmaLinux", "openSUSE", "SUSE", "Mageia", "openEuler", "Photon OS", "Azure Linux", "Oracle Linux":
            self = .rpm
        case "PyPI": self = .pep440
        case "npm", "crates.io", "Packagist", "NuGet", "Hex", "Pub", "RubyGems", "SwiftURL": self = .semver
        case "Go": self = .goModule
        case "Maven": self = .maven
        default: return nil
        }
    }

    /// `a` against `b`: negative, zero or positive.
    public func compare(_ a: String, _ b: String) throws(VersionError) -> Int {
        switch self {
        case .dpkg: return DpkgVersion.compare(try DpkgVersion(parsing: a), try DpkgVersion(parsing: b))
        case .apk: return APKVersion.compare(try APKVersion(parsing: a), try APKVersion(parsing: b))
        case .rpm: return RPMVersion.compare(try RPMVersion(parsing: a), try RPMVersion(parsing: b))
        case .pep440: return PEP440Version.compare(try PEP440Version(parsing: a), try PEP440Version(parsing: b))
        case .semver, .goModule:
            return SemanticVersion.compare(try SemanticVersion(parsing: a), try SemanticVersion(parsing: b))
        case .maven: return MavenVersion.compare(MavenVersion(parsing: a), MavenVersion(parsing: b))
        }
    }

    /// Whether two spellings name the same version (PEP 440's `1.0` and `1.0.0`, ...).
    public func same(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        return (try? compare(a, b)) == 0
    }
}
