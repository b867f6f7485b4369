/// The table `caisson sbom` prints by default, as syft prints it: NAME, VERSION and
/// TYPE (syft's type names: deb, apk, rpm, python, npm, go-module, rust-crate,
/// java-archive), columns padded to their widest cell, packages in catalog order.
enum SBOMTable {
    static func render(_ document: SBOMDocument) -> String {
        guard !document.packages.isEmpty else { return "No packages discovered\n" }
        let rows = [["NAME", "VERSION", "TYPE"]] + document.packages.map { [$0.name, $0.version, typeName($0.ecosystem)] }
        let widths = (0..<2).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in rows {
            for column in 0..<2 {
                text += row[column] + String(repeating: " ", count: widths[column] - row[column].count + 3)
            }
            text += row[2] + "\n"
        }
        return text
    }

    static func typeName(_ ecosystem: PackageEcosystem) -> String { ecosystem.typeName }
}

extension PackageEcosystem {
    /// The package type scanners print (syft's and grype's names: deb, apk, rpm, python,
    /// npm, go-module, rust-crate, java-archive).
    public var typeName: String {
        switch self {
        case .debian, .ubuntu: return "deb"
        case .alpine: return "apk"
        case .rpm: return "rpm"
        case .pypi: return "python"
        case .npm: return "npm"
        case .go: return "go-module"
        case .cratesIO: return "rust-crate"
        case .maven: return "java-archive"
        }
    }
}
