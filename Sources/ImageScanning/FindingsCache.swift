#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import SBOM
import VulnerabilityDB

/// An image's findings against one state of the vulnerability database, kept beside its
/// catalogue (`ROOT/sbom/ID.findings.json`): both inputs only change when the image does
/// (never: its id is its content) or when the database is imported into (which stamps
/// it), so a repeated scan, the gate of every `run` and `images --format
/// {{.Vulnerabilities}}` read the answer instead of matching again. Filters apply after.
struct FindingsCache {
    /// Bumped when matching changes.
    static let version = 1
    let path: String

    init(directory: String, imageID: String) {
        path = "\(directory)/\(imageID.split(separator: ":").last ?? "").findings.json"
    }

    func load(stamp: String) -> (findings: [Finding], problems: [String])? {
        guard let bytes = try? Files.readBytes(path), case .object(let root)? = try? JSONParser.parse(bytes),
              case .number(let version)? = root["version"], Int(version) == FindingsCache.version,
              CatalogFile.string(root, "stamp") == stamp, case .array(let items)? = root["findings"] else { return nil }
        var findings: [Finding] = []
        for item in items {
            guard case .object(let object) = item, let package = object["package"].flatMap(CatalogFile.package),
                  let id = CatalogFile.string(object, "id"),
                  case .number(let severity)? = object["severity"], let rank = Int(severity).flatMap(Severity.init(rawValue:)),
                  let matchedName = CatalogFile.string(object, "matchedName"),
                  let matchedVersion = CatalogFile.string(object, "matchedVersion") else { return nil }
            var score: Double?
            if case .number(let text)? = object["score"] { score = Double(text) }
            findings.append(Finding(package: package, advisoryID: id, aliases: CatalogFile.strings(object, "aliases"),
                                    summary: CatalogFile.string(object, "summary"), severity: rank, score: score,
                                    fixedVersions: CatalogFile.strings(object, "fixed"), matchedName: matchedName,
                                    matchedVersion: matchedVersion))
        }
        return (findings, CatalogFile.strings(root, "problems"))
    }

    func store(_ findings: [Finding], problems: [String], stamp: String) {
        var root = JSONObject()
        root.set("version", .number(String(FindingsCache.version)))
        root.set("stamp", .string(stamp))
        root.set("findings", .array(findings.map { finding in
            var object = JSONObject()
            object.set("package", CatalogFile.packageJSON(finding.package))
            object.set("id", .string(finding.advisoryID))
            object.set("aliases", .array(finding.aliases.map { .string($0) }))
            if let summary = finding.summary { object.set("summary", .string(summary)) }
            object.set("severity", .number(String(finding.severity.rawValue)))
            if let score = finding.score { object.set("score", .number(String(score))) }
            object.set("fixed", .array(finding.fixedVersions.map { .string($0) }))
            object.set("matchedName", .string(finding.matchedName))
            object.set("matchedVersion", .string(finding.matchedVersion))
            return .object(object)
        }))
        root.set("problems", .array(problems.map { .string($0) }))
        try? Files.writeAtomically(path, bytes: JSONEncoding.serialize(.object(root)))
    }
}
