import LayerArchive

/// Java archives (`.jar`, `.war`, `.ear`, and the jars nested in them, such as Spring
/// Boot's `BOOT-INF/lib/*.jar`, two levels deep): each `META-INF/maven/GROUP/ARTIFACT/
/// pom.properties` is a Maven package `GROUP:ARTIFACT` at its version; an archive with
/// none is named from its manifest (`Implementation-Title`/`-Version`, else
/// `Bundle-SymbolicName`/`Bundle-Version`) when it gives both. Read with `ZipReader`,
/// nothing unpacked to disk.
public struct JavaArchiveCataloger: PackageCataloger {
    public let name = "java-archive"
    /// Archives above this are not opened (they are read whole).
    static let sizeLimit = 256 << 20
    static let nestingLimit = 2

    public init() {}

    public func selects(_ file: ImageFileEntry) -> Bool {
        let lower = file.path.lowercased()
        return file.size <= JavaArchiveCataloger.sizeLimit
            && (lower.hasSuffix(".jar") || lower.hasSuffix(".war") || lower.hasSuffix(".ear"))
    }

    public func catalog(_ context: CatalogContext) -> CatalogerOutput {
        var output = CatalogerOutput()
        for file in context.selectedFiles {
            guard let bytes = context.files.contents(file.path, limit: JavaArchiveCataloger.sizeLimit) else { continue }
            do {
                try read(bytes, location: file.path, layer: file.layer, depth: 0, into: &output)
            } catch {
                output.problems.append(CatalogProblem(cataloger: name, path: file.path, reason: "\(error)"))
            }
        }
        return output
    }

    func read(_ bytes: [UInt8], location: String, layer: String?, depth: Int, into output: inout CatalogerOutput) throws(ArchiveError) {
        let archive = try ZipReader(bytes: bytes)
        var found = false
        for entry in archive.entries where entry.name.hasPrefix("META-INF/maven/") && entry.name.hasSuffix("/pom.properties") {
            let properties = JavaProperties(String(decoding: try archive.contents(of: entry), as: UTF8.self))
            guard let group = properties["groupId"], let artifact = properties["artifactId"], let version = properties["version"] else {
                continue
            }
            found = true
            output.packages.append(package(group: group, artifact: artifact, version: version, location: location, layer: layer))
        }
        if !found, let manifest = archive.entries.first(where: { $0.name == "META-INF/MANIFEST.MF" }) {
            let fields = JarManifest(String(decoding: try archive.contents(of: manifest), as: UTF8.self))
            if let title = fields["Implementation-Title"] ?? fields["Bundle-SymbolicName"],
               let version = fields["Implementation-Version"] ?? fields["Bundle-Version"] {
                let group = fields["Implementation-Vendor-Id"] ?? ""
                output.packages.append(package(group: group, artifact: title, version: version, location: location, layer: layer))
            }
        }
        guard depth < JavaArchiveCataloger.nestingLimit else { return }
        for entry in archive.entries where entry.name.lowercased().hasSuffix(".jar") && entry.size <= JavaArchiveCataloger.sizeLimit {
            do {
                try read(try archive.contents(of: entry), location: location + ":" + entry.name, layer: layer, depth: depth + 1, into: &output)
            } catch {
                output.problems.append(CatalogProblem(cataloger: name, path: location + ":" + entry.name, reason: "\(error)"))
            }
        }
    }

    func package(group: String, artifact: String, version: String, location: String, layer: String?) -> CatalogedPackage {
        let purl = PackageURL(type: "maven", namespace: group.isEmpty ? nil : group, name: artifact, version: version)
        return CatalogedPackage(name: group.isEmpty ? artifact : "\(group):\(artifact)", version: version, ecosystem: .maven,
                                locations: [location], layer: layer, purl: purl.description)
    }
}

/// A `.properties` file's `key=value` (or `key: value`) lines; `#`/`!` comments.
struct JavaProperties {
    var values: [String: String] = [:]

    init(_ text: String) {
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            guard let first = line.first, first != "#", first != "!" else { continue }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = String(line[..<separator]).trimmingCharacters(in: [" ", "\t"])
            let value = String(line[line.index(after: separator)...]).trimmingCharacters(in: [" ", "\t"])
            values[key] = value
        }
    }

    subscript(key: String) -> String? { values[key].flatMap { $0.isEmpty ? nil : $0 } }
}

/// A jar manifest's main section: `Name: value` lines, continuation lines begin with
/// one space.
struct JarManifest {
    var values: [String: String] = [:]

    init(_ text: String) {
        var lastKey: String?
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            if raw.isEmpty { break }
            if raw.first == " ", let key = lastKey {
                values[key, default: ""] += String(raw.dropFirst())
                continue
            }
            guard let colon = raw.firstIndex(of: ":") else { continue }
            let key = String(raw[..<colon])
            values[key] = String(raw[raw.index(after: colon)...]).trimmingCharacters(in: [" "])
            lastKey = key
        }
    }

    subscript(key: String) -> String? { values[key].flatMap { $0.isEmpty ? nil : $0 } }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
