import CaissonJSON
import SBOM
import VulnerabilityDB

/// A scan's result for one image, and its renderings: the table a person reads (as
/// grype prints it), JSON for scripts, SARIF 2.1.0 for code-scanning dashboards.
public struct ScanReport: Sendable {
    public var imageName: String
    public var imageID: String
    public var operatingSystem: OperatingSystem?
    public var packageCount: Int
    public var findings: [Finding]
    public var toolVersion: String
    /// Packages that could not be checked, and metadata that could not be read.
    public var problems: [String]

    public init(imageName: String, imageID: String, operatingSystem: OperatingSystem?, packageCount: Int,
                findings: [Finding], toolVersion: String, problems: [String]) {
        self.imageName = imageName
        self.imageID = imageID
        self.operatingSystem = operatingSystem
        self.packageCount = packageCount
        self.findings = findings
        self.toolVersion = toolVersion
        self.problems = problems
    }

    /// Findings per severity, worst first, only those with any.
    public var counts: [(Severity, Int)] {
        Severity.allCases.reversed().compactMap { severity in
            let count = findings.filter { $0.severity == severity }.count
            return count > 0 ? (severity, count) : nil
        }
    }

    public var summaryLine: String {
        let parts = counts.map { "\($0.1) \($0.0.description.lowercased())" }
        let total = findings.count
        return "\(total) vulnerabilit\(total == 1 ? "y" : "ies") in \(packageCount) package\(packageCount == 1 ? "" : "s")"
            + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
    }

    public func table() -> String {
        var rows = [["NAME", "INSTALLED", "FIXED-IN", "TYPE", "VULNERABILITY", "SEVERITY"]]
        for finding in findings {
            rows.append([finding.package.name, finding.package.version, finding.fixedVersions.joined(separator: ", "),
                         finding.package.ecosystem.typeName, finding.advisoryID, finding.severity.description])
        }
        var text = ""
        if !findings.isEmpty {
            let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                var line = ""
                for (column, cell) in row.enumerated() {
                    line += column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
                }
                text += line + "\n"
            }
        } else {
            text += "No vulnerabilities found\n"
        }
        return text + summaryLine + "\n"
    }

    static func number(_ value: Double) -> JSONValue {
        let rounded = (value * 10).rounded() / 10
        return .number(String(rounded))
    }

    public func json() -> [UInt8] {
        var os: JSONValue = .null
        if let system = operatingSystem {
            var object = JSONObject()
            object.set("id", .string(system.id))
            object.set("versionID", system.versionID.map { .string($0) } ?? .null)
            object.set("prettyName", system.prettyName.map { .string($0) } ?? .null)
            os = .object(object)
        }
        var root = JSONObject()
        root.set("image", .string(imageName))
        root.set("imageID", .string(imageID))
        root.set("os", os)
        root.set("packages", .number(String(packageCount)))
        root.set("findings", .array(findings.map { finding in
            var object = JSONObject()
            object.set("id", .string(finding.advisoryID))
            object.set("aliases", .array(finding.aliases.map { .string($0) }))
            object.set("severity", .string(finding.severity.description))
            object.set("score", finding.score.map(ScanReport.number) ?? .null)
            object.set("summary", finding.summary.map { .string($0) } ?? .null)
            object.set("package", .string(finding.package.name))
            object.set("version", .string(finding.package.version))
            object.set("type", .string(finding.package.ecosystem.typeName))
            object.set("ecosystem", .string(finding.package.ecosystem.rawValue))
            object.set("purl", .string(finding.package.purl))
            object.set("matched", .string("\(finding.matchedName) \(finding.matchedVersion)"))
            object.set("fixedVersions", .array(finding.fixedVersions.map { .string($0) }))
            object.set("layer", finding.package.layer.map { .string($0) } ?? .null)
            object.set("locations", .array(finding.package.locations.map { .string($0) }))
            return .object(object)
        }))
        var summary = JSONObject()
        for severity in Severity.allCases.reversed() {
            summary.set(severity.description.lowercased(), .number(String(findings.filter { $0.severity == severity }.count)))
        }
        root.set("summary", .object(summary))
        root.set("problems", .array(problems.map { .string($0) }))
        return JSONEncoding.serialize(.object(root), pretty: true) + [0x0A]
    }

    /// SARIF 2.1.0: one rule per advisory (with `security-severity`, the CVSS-like number
    /// code-scanning tools sort by), one result per vulnerable package.
    public func sarif() -> [UInt8] {
        var rules: [JSONValue] = []
        var seen = Set<String>()
        for finding in findings where seen.insert(finding.advisoryID).inserted {
            var rule = JSONObject()
            rule.set("id", .string(finding.advisoryID))
            rule.set("name", .string("Vulnerability"))
            var text = JSONObject()
            text.set("text", .string(finding.summary ?? "\(finding.advisoryID) in \(finding.package.name)"))
            rule.set("shortDescription", .object(text))
            var help = JSONObject()
            help.set("text", .string("Advisory \(finding.advisoryID)" + (finding.aliases.isEmpty ? "" : " (\(finding.aliases.joined(separator: ", ")))")))
            rule.set("help", .object(help))
            var properties = JSONObject()
            properties.set("security-severity", .string(String(finding.score ?? ScanReport.nominalScore(finding.severity))))
            properties.set("tags", .array([.string("vulnerability"), .string("security"), .string(finding.severity.description)]))
            rule.set("properties", .object(properties))
            rules.append(.object(rule))
        }
        let results: [JSONValue] = findings.map { finding in
            var result = JSONObject()
            result.set("ruleId", .string(finding.advisoryID))
            result.set("level", .string(ScanReport.sarifLevel(finding.severity)))
            var message = JSONObject()
            let fixed = finding.fixedVersions.isEmpty ? "no fixed version" : "fixed in \(finding.fixedVersions.joined(separator: ", "))"
            message.set("text", .string("\(finding.package.name) \(finding.package.version) is affected by \(finding.advisoryID) (\(finding.severity.description.lowercased()), \(fixed))"))
            result.set("message", .object(message))
            var artifact = JSONObject()
            let location = finding.package.locations.first ?? "/"
            artifact.set("uri", .string(location.hasPrefix("/") ? String(location.dropFirst()) : location))
            var physical = JSONObject()
            physical.set("artifactLocation", .object(artifact))
            var locationObject = JSONObject()
            locationObject.set("physicalLocation", .object(physical))
            result.set("locations", .array([.object(locationObject)]))
            return .object(result)
        }
        var driver = JSONObject()
        driver.set("name", .string("caisson"))
        driver.set("version", .string(toolVersion))
        driver.set("informationUri", .string("https://github.com/caisson/caisson"))
        driver.set("rules", .array(rules))
        var tool = JSONObject()
        tool.set("driver", .object(driver))
        var run = JSONObject()
        run.set("tool", .object(tool))
        run.set("results", .array(results))
        var root = JSONObject()
        root.set("$schema", .string("https://json.schemastore.org/sarif-2.1.0.json"))
        root.set("version", .string("2.1.0"))
        root.set("runs", .array([.object(run)]))
        return JSONEncoding.serialize(.object(root), pretty: true) + [0x0A]
    }

    static func sarifLevel(_ severity: Severity) -> String {
        switch severity {
        case .critical, .high: return "error"
        case .medium: return "warning"
        default: return "note"
        }
    }

    static func nominalScore(_ severity: Severity) -> Double {
        switch severity {
        case .critical: return 9.5
        case .high: return 8.0
        case .medium: return 5.5
        case .low: return 2.0
        case .negligible, .unknown: return 0.0
        }
    }
}
