/// Alpine (and Wolfi, Chainguard) packages from apk's database,
/// `/lib/apk/db/installed`: one paragraph a package, one `X:value` line a field
/// (`P` name, `V` version, `A` architecture, `L` license, `o` origin, i.e. the source
/// package; `F` a directory and `R` a file in the last `F`).
///
/// Layer: as for dpkg, the lowest layer from which the database lists the package with
/// this version in every view up to the top.
public struct ApkCataloger: PackageCataloger {
    public static let databasePath = "/lib/apk/db/installed"
    static let sizeLimit = 256 << 20

    public let name = "apk"

    public init() {}

    public func selects(_ file: ImageFileEntry) -> Bool { false }

    public func catalog(_ context: CatalogContext) -> CatalogerOutput {
        let files = context.files
        guard let (records, problems) = readDatabase(files) else { return CatalogerOutput() }
        var output = CatalogerOutput(problems: problems)
        let distribution = DistributionQualifiers(operatingSystem: context.operatingSystem)
        let attribution = LayerAttribution(files: files)
        var identitiesByView: [Int: Set<String>] = [:]
        for record in records {
            let layer = attribution.lowestLayer(watching: [Self.databasePath]) { view, index in
                if identitiesByView[index] == nil {
                    identitiesByView[index] = Set((readDatabase(view)?.records ?? []).map(\.identity))
                }
                return identitiesByView[index]!.contains(record.identity)
            }
            var qualifiers: [String: String] = [:]
            qualifiers["arch"] = record.architecture
            qualifiers["distro"] = distribution.distro
            let purl = PackageURL(type: "apk", namespace: distribution.namespace(fallback: "alpine"), name: record.name,
                                  version: record.version, qualifiers: qualifiers)
            output.packages.append(CatalogedPackage(
                name: record.name, version: record.version, ecosystem: .alpine, locations: [Self.databasePath],
                layer: layer, licenses: record.license.map { [$0] } ?? [],
                sourceName: record.origin, sourceVersion: record.origin == nil ? nil : record.version,
                purl: purl.description, files: record.files))
        }
        return output
    }

    struct Record {
        var name = ""
        var version = ""
        var architecture: String?
        var license: String?
        var origin: String?
        var files: [String] = []
        var line = 0

        var identity: String { "\(name):\(architecture ?? "")@\(version)" }
    }

    /// nil where the image has no apk database.
    func readDatabase(_ files: any ImageFiles) -> (records: [Record], problems: [CatalogProblem])? {
        guard let resolved = files.resolvingSymlinks(Self.databasePath),
              let bytes = files.contents(resolved, limit: Self.sizeLimit) else { return nil }
        var records: [Record] = []
        var problems: [CatalogProblem] = []
        var current: Record? = nil
        var directory = ""
        var number = 0
        func finish() {
            guard let record = current else { return }
            current = nil
            if record.name.isEmpty || record.version.isEmpty {
                let missing = record.name.isEmpty ? "P: (name)" : "V: (version) for \(record.name)"
                problems.append(CatalogProblem(cataloger: name, path: Self.databasePath, reason: "package at line \(record.line): no \(missing)"))
            } else {
                records.append(record)
            }
        }
        for rawLine in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.isEmpty {
                finish()
                continue
            }
            guard line.count >= 2, line[line.index(after: line.startIndex)] == ":" else {
                problems.append(CatalogProblem(cataloger: name, path: Self.databasePath, reason: "line \(number): not a field: \(line.prefix(80))"))
                continue
            }
            if current == nil {
                current = Record(line: number)
                directory = ""
            }
            let value = String(line.dropFirst(2))
            switch line.first {
            case "P": current!.name = value
            case "V": current!.version = value
            case "A": current!.architecture = value
            case "L": current!.license = value.isEmpty ? nil : value
            case "o": current!.origin = value.isEmpty ? nil : value
            case "F": directory = value
            case "R": current!.files.append(directory.isEmpty ? "/" + value : "/" + directory + "/" + value)
            default: continue
            }
        }
        finish()
        return (records, problems)
    }
}
