/// What an OS package's purl takes from the image's os-release: the vendor namespace
/// (`debian`, `ubuntu`, `alpine`, `fedora`, ...) and the `distro` qualifier
/// (`debian-12`, `alpine-3.19.1`), and which OSV ecosystem a dpkg package belongs to.
struct DistributionQualifiers {
    let operatingSystem: OperatingSystem?

    /// The vendor: the OS's `ID`, lowercased, or `fallback` without an os-release.
    func namespace(fallback: String) -> String {
        guard let id = operatingSystem?.id, !id.isEmpty else { return fallback }
        return PackageURL.asciiLowercased(id)
    }

    /// `ID-VERSION_ID`, or `ID` alone where the release has no version (Debian's sid).
    var distro: String? {
        guard let os = operatingSystem, !os.id.isEmpty else { return nil }
        let id = PackageURL.asciiLowercased(os.id)
        return os.versionID.map { "\(id)-\($0)" } ?? id
    }

    /// Ubuntu and the distributions built on it have their own advisories; every other
    /// dpkg-based system is matched as Debian.
    var dpkgEcosystem: PackageEcosystem {
        guard let os = operatingSystem else { return .debian }
        return os.id == "ubuntu" || os.idLike.contains("ubuntu") ? .ubuntu : .debian
    }
}
