import Images
import SBOM
import VulnerabilityDB

/// `caisson scan` and the policy gate over one image store: the image's catalogue
/// (`ImageInventory`, cached) matched against the vulnerability database.
public struct ImageScanner: Sendable {
    public let service: ImageService
    public let databasePath: String
    public let toolVersion: String

    public init(service: ImageService, settings: ScanSettings, toolVersion: String) {
        self.service = service
        databasePath = settings.database ?? service.root + "/vulndb/osv.sqlite"
        self.toolVersion = toolVersion
    }

    public func openDatabase(create: Bool) throws(ScanError) -> VulnerabilityDatabase {
        do { return try VulnerabilityDatabase(path: databasePath, create: create) } catch { throw .database(error.description) }
    }

    /// Scans `record` (named `name` in reports).
    public func scan(_ record: ImageRecord, name: String, filter: ScanFilter = ScanFilter()) throws(ScanError) -> ScanReport {
        let database = try openDatabase(create: false)
        let inventory = ImageInventory(service: service)
        let catalog = try inventory.catalog(record)
        let cache = FindingsCache(directory: inventory.directory, imageID: record.id.description)
        var matched: (findings: [Finding], problems: [String])
        do {
            // Findings hold as long as both the database and the catalogers' output do.
            let stamp = "catalog \(ImageInventory.catalogVersion), " + (try database.stamp())
            if let cached = cache.load(stamp: stamp) {
                matched = cached
            } else {
                matched = try VulnerabilityMatcher(database: database).match(catalog)
                cache.store(matched.findings, problems: matched.problems, stamp: stamp)
            }
        } catch {
            throw .database(error.description)
        }
        return ScanReport(imageName: name, imageID: record.id.description, operatingSystem: catalog.operatingSystem,
                          packageCount: catalog.packages.count, findings: matched.findings.filter(filter.keeps),
                          toolVersion: toolVersion, problems: catalog.problems + matched.problems)
    }

    /// What a policy says of an image before it is used.
    public enum GateVerdict: Sendable {
        case allowed
        /// Findings to show; the image may be used.
        case warned(ScanReport)
        /// The image breaks the policy: these findings.
        case refused(ScanReport, violations: [Finding])
        /// The policy cannot be evaluated (no database): refused when blocking.
        case unavailable(String, refuse: Bool)
    }

    public func gate(_ record: ImageRecord, name: String, policy: ScanPolicy) -> GateVerdict {
        if policy == .never { return .allowed }
        let report: ScanReport
        do {
            report = try scan(record, name: name)
        } catch {
            if case .block = policy { return .unavailable(error.description, refuse: true) }
            return .unavailable(error.description, refuse: false)
        }
        switch policy {
        case .never: return .allowed
        case .warn: return report.findings.isEmpty ? .allowed : .warned(report)
        case .block:
            let violations = policy.violations(report.findings)
            return violations.isEmpty ? (report.findings.isEmpty ? .allowed : .warned(report)) : .refused(report, violations: violations)
        }
    }
}
