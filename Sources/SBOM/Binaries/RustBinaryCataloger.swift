/// Rust executables built with `cargo auditable`: every crate linked in (build-only
/// dependencies such as proc macros left out, as they are not in the binary), the
/// program's own crate included, each a crates.io package at the version Cargo resolved.
/// Read from the compressed list in the `.dep-v0` section (`RustAuditData`); a binary
/// built without it has no such list, and is not guessed at.
public struct RustBinaryCataloger: ExecutableCataloger {
    public let name = "rust-binary"

    public init() {}

    public func catalog(_ context: CatalogContext) -> CatalogerOutput {
        var output = CatalogerOutput()
        for file in context.selectedFiles {
            let data: RustAuditData?
            do {
                data = try RustAuditData.read(context.files, path: file.path)
            } catch {
                output.problems.append(CatalogProblem(cataloger: name, path: file.path, reason: error.reason))
                continue
            }
            for package in data?.packages ?? [] where package.isLinkedIn {
                let purl = PackageURL(type: "cargo", name: package.name, version: package.version)
                output.packages.append(CatalogedPackage(name: package.name, version: package.version, ecosystem: .cratesIO,
                                                        locations: [file.path], layer: file.layer, purl: purl.description))
            }
        }
        return output
    }
}
