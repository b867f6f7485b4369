import CaissonSys

/// Debian and Ubuntu packages from the dpkg database: `/var/lib/dpkg/status`, and the
/// per-package files of `/var/lib/dpkg/status.d/` that distroless images carry instead.
/// A package is listed when `dpkg-query -W` would list it (any state but
/// "not-installed"). Its installed files come from `info/NAME.list` (or
/// `info/NAME:ARCH.list`, or status.d's `NAME.md5sums`), its licenses from a
/// machine-readable `/usr/share/doc/NAME/copyright`.
///
/// Layer: the lowest layer from which the status database lists the package with this
/// version in every view up to the top (each layer that rewrote the database is read
/// again), so a package installed in the base image keeps the base layer although every
/// later `apt-get install` rewrote the status file.
public struct DpkgCataloger: PackageCataloger {
    public static let statusPath = "/var/lib/dpkg/status"
    public static let statusDirectory = "/var/lib/dpkg/status.d"
    static let infoDirectory = "/var/lib/dpkg/info"
    static let sizeLimit = 256 << 20

    public let name = "dpkg"

    public init() {}

    public func selects(_ file: ImageFileEntry) -> Bool { false }

    public func catalog(_ context: CatalogContext) -> CatalogerOutput {
        let files = context.files
        var output = CatalogerOutput()
        let (entries, problems) = readDatabase(files)
        output.problems = problems
        let distribution = DistributionQualifiers(operatingSystem: context.operatingSystem)
        var identitiesByView: [Int: Set<String>] = [:]
        let attribution = LayerAttribution(files: files)
        for entry in entries {
            let layer = attribution.lowestLayer(watching: [Self.statusPath, Self.statusDirectory]) { view, index in
                if identitiesByView[index] == nil {
                    identitiesByView[index] = Set(readDatabase(view).entries.map(\.identity))
                }
                return identitiesByView[index]!.contains(entry.identity)
            }
            output.packages.append(package(entry, files: files, layer: layer, distribution: distribution))
        }
        return output
    }

    private func package(_ entry: DpkgStatusEntry, files: any ImageFiles, layer: String?,
                         distribution: DistributionQualifiers) -> CatalogedPackage {
        var locations = [entry.path]
        var installed: [String] = []
        if let (listPath, list) = fileList(entry, files) {
            locations.append(listPath)
            installed = list
        }
        var licenses: [String] = []
        let copyright = "/usr/share/doc/\(entry.name)/copyright"
        if let resolved = files.resolvingSymlinks(copyright), let bytes = files.contents(resolved, limit: 4 << 20) {
            licenses = DebianCopyright.licenses(String(decoding: bytes, as: UTF8.self))
            if !licenses.isEmpty { locations.append(resolved) }
        }
        var qualifiers: [String: String] = [:]
        qualifiers["arch"] = entry.architecture
        qualifiers["distro"] = distribution.distro
        let purl = PackageURL(type: "deb", namespace: distribution.namespace(fallback: "debian"), name: entry.name,
                              version: entry.version, qualifiers: qualifiers)
        var package = CatalogedPackage(
            name: entry.name, version: entry.version, ecosystem: distribution.dpkgEcosystem, locations: locations,
            layer: layer, licenses: licenses, sourceName: entry.sourceName, sourceVersion: entry.sourceVersion,
            purl: purl.description)
        package.files = installed
        return package
    }

    /// The package's file list: `info/NAME:ARCH.list` (Multi-Arch: same packages),
    /// `info/NAME.list`, or for status.d packages `status.d/NAME.md5sums`.
    private func fileList(_ entry: DpkgStatusEntry, _ files: any ImageFiles) -> (String, [String])? {
        var candidates = ["\(Self.infoDirectory)/\(entry.name).list"]
        if let architecture = entry.architecture { candidates.insert("\(Self.infoDirectory)/\(entry.name):\(architecture).list", at: 0) }
        for path in candidates {
            guard let bytes = files.contents(path, limit: Self.sizeLimit) else { continue }
            let paths = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).filter { $0 != "/." && !$0.isEmpty }
            return (path, paths)
        }
        if entry.path.hasPrefix(Self.statusDirectory + "/") {
            let path = "\(Self.statusDirectory)/\(Paths.base(entry.path)).md5sums"
            guard let bytes = files.contents(path, limit: Self.sizeLimit) else { return nil }
            // "d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/base-files/README"
            let paths = String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
                guard let space = line.firstIndex(of: " ") else { return nil }
                let relative = line[space...].drop { $0 == " " }
                return relative.isEmpty ? nil : "/" + relative
            }
            return (path, paths)
        }
        return nil
    }

    /// Every listed package of the status file and of status.d, in file order.
    func readDatabase(_ files: any ImageFiles) -> (entries: [DpkgStatusEntry], problems: [CatalogProblem]) {
        var entries: [DpkgStatusEntry] = []
        var problems: [CatalogProblem] = []
        func read(_ path: String, statusRequired: Bool) {
            guard let resolved = files.resolvingSymlinks(path), let bytes = files.contents(resolved, limit: Self.sizeLimit) else {
                problems.append(CatalogProblem(cataloger: name, path: path, reason: "not a readable regular file of at most \(Self.sizeLimit) bytes"))
                return
            }
            let parsed = ControlParagraph.parse(String(decoding: bytes, as: UTF8.self))
            problems += parsed.problems.map { CatalogProblem(cataloger: name, path: path, reason: $0) }
            for paragraph in parsed.paragraphs {
                do {
                    if let entry = try DpkgStatusEntry.read(paragraph, path: path, statusRequired: statusRequired) { entries.append(entry) }
                } catch {
                    problems.append(CatalogProblem(cataloger: name, path: path, reason: "paragraph at line \(paragraph.line): \(error)"))
                }
            }
        }
        if exists(files, Self.statusPath) {
            read(Self.statusPath, statusRequired: true)
        }
        if let resolved = files.resolvingSymlinks(Self.statusDirectory), let names = files.list(resolved) {
            for name in names.sorted() where !name.hasSuffix(".md5sums") && !name.hasPrefix(".") {
                read("\(Self.statusDirectory)/\(name)", statusRequired: false)
            }
        }
        return (entries, problems)
    }

    /// Whether the image has anything at `path` (a file dpkg-query would fail to read is
    /// a problem; no database at all is not).
    private func exists(_ files: any ImageFiles, _ path: String) -> Bool {
        guard let resolved = files.resolvingSymlinks(path) else { return true }
        return files.list(Paths.parent(resolved))?.contains(Paths.base(resolved)) ?? false
    }
}
