import CaissonSys
import GRDB

/// RPM packages (Fedora, RHEL and its rebuilds, openSUSE, Amazon Linux, ...) from the
/// SQLite rpmdb, `rpmdb.sqlite` in `/var/lib/rpm` or `/usr/lib/sysimage/rpm`: its
/// `Packages` table holds one RPM header blob a package. The Berkeley DB (`Packages`)
/// and ndb (`Packages.db`) formats of older and other distributions are reported as
/// unsupported by name.
///
/// The database is opened read-only and `immutable` where it is (SQLite then neither
/// locks it nor creates `-shm`/`-wal` files beside it in the layer); it is copied to a
/// temporary directory only when the view has no file on this machine or a write-ahead
/// log beside it holds changes that are not in the main file yet.
///
/// Layer: the lowest layer from which the database lists the package with this version
/// in every view up to the top.
public struct RPMDatabaseCataloger: PackageCataloger {
    public static let directories = ["/usr/lib/sysimage/rpm", "/var/lib/rpm"]

    public let name = "rpm"

    public init() {}

    public func selects(_ file: ImageFileEntry) -> Bool { false }

    public func catalog(_ context: CatalogContext) -> CatalogerOutput {
        let files = context.files
        var output = CatalogerOutput()
        var seen: Set<String> = []
        for directory in Self.directories {
            guard let resolved = files.resolvingSymlinks(directory), seen.insert(resolved).inserted,
                  let names = files.list(resolved) else { continue }
            if names.contains("rpmdb.sqlite") {
                catalog(databaseDirectory: resolved, context, into: &output)
            } else if names.contains("Packages.db") {
                output.problems.append(CatalogProblem(cataloger: name, path: resolved + "/Packages.db",
                    reason: "the ndb rpmdb format (SUSE) is not supported; only rpmdb.sqlite is read"))
            } else if names.contains("Packages") {
                output.problems.append(CatalogProblem(cataloger: name, path: resolved + "/Packages",
                    reason: "the Berkeley DB rpmdb format (RHEL/CentOS 7 and 8, Amazon Linux 2) is not supported; only rpmdb.sqlite is read"))
            }
        }
        return output
    }

    private func catalog(databaseDirectory: String, _ context: CatalogContext, into output: inout CatalogerOutput) {
        let path = databaseDirectory + "/rpmdb.sqlite"
        let records: [RPMPackageRecord]
        do {
            records = try readDatabase(context.files, path: path, problems: &output.problems)
        } catch {
            output.problems.append(error)
            return
        }
        let distribution = DistributionQualifiers(operatingSystem: context.operatingSystem)
        let attribution = LayerAttribution(files: context.files)
        var identitiesByView: [Int: Set<String>] = [:]
        for record in records {
            let layer = attribution.lowestLayer(watching: [path, path + "-wal"]) { view, index in
                if identitiesByView[index] == nil {
                    var ignored: [CatalogProblem] = []
                    let earlier = (try? readDatabase(view, path: path, problems: &ignored)) ?? []
                    identitiesByView[index] = Set(earlier.map(\.identity))
                }
                return identitiesByView[index]!.contains(record.identity)
            }
            var qualifiers: [String: String] = [:]
            qualifiers["arch"] = record.architecture
            qualifiers["epoch"] = record.epoch.map(String.init)
            qualifiers["distro"] = distribution.distro
            let purl = PackageURL(type: "rpm", namespace: distribution.namespace(fallback: "redhat"), name: record.name,
                                  version: "\(record.version)-\(record.release)", qualifiers: qualifiers)
            let source = record.sourceRPM.flatMap(SourceRPMName.init)
            output.packages.append(CatalogedPackage(
                name: record.name, version: record.fullVersion, ecosystem: .rpm, locations: [path], layer: layer,
                licenses: record.license.map { [$0] } ?? [], sourceName: source?.name, sourceVersion: source?.version,
                purl: purl.description, files: record.files))
        }
    }

    /// The packages of the rpmdb at `path` in `files`; a header that cannot be read is
    /// added to `problems` and skipped.
    func readDatabase(_ files: any ImageFiles, path: String, problems: inout [CatalogProblem]) throws(CatalogProblem) -> [RPMPackageRecord] {
        let copy = try SQLiteSnapshot(files: files, path: path, cataloger: name)
        defer { copy.remove() }
        var records: [RPMPackageRecord] = []
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: copy.openPath, configuration: configuration)
            let blobs: [(Int64, [UInt8])] = try queue.read { db in
                var rows: [(Int64, [UInt8])] = []
                let cursor = try Row.fetchCursor(db, sql: "SELECT hnum, blob FROM Packages ORDER BY hnum")
                while let row = try cursor.next() {
                    let number: Int64 = row[0]
                    let bytes = try row.withUnsafeData(atIndex: 1) { data in data.map { [UInt8]($0) } ?? [] }
                    rows.append((number, bytes))
                }
                return rows
            }
            try queue.close()
            for (number, blob) in blobs {
                do {
                    if let record = try RPMPackageRecord(header: RPMHeader(blob: blob)) { records.append(record) }
                } catch {
                    problems.append(CatalogProblem(cataloger: name, path: path, reason: "package \(number): \(error)"))
                }
            }
        } catch {
            throw CatalogProblem(cataloger: name, path: path, reason: "cannot read the SQLite rpmdb: \(error)")
        }
        return records
    }
}
