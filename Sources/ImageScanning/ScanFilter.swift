import CaissonSys
import VulnerabilityDB

/// What a user asked to see of a scan: `--severity` (a list), `--ignore-unfixed`, and an
/// ignore file (`--ignore-file`: one advisory id or alias per line, `#` comments; a
/// finding is dropped when its id or any alias is listed, as `.trivyignore` works).
public struct ScanFilter: Sendable {
    public var severities: Set<Severity>?
    public var ignoreUnfixed = false
    public var ignoredIDs: Set<String> = []

    public init() {}

    /// `--severity CRITICAL,HIGH` (any case, comma separated); `flag` names the option in errors.
    public static func severities(_ text: String, flag: String = "--severity") throws(ScanError) -> Set<Severity> {
        var result = Set<Severity>()
        for word in text.split(separator: ",") {
            let name = String(word).trimmingCharacters(in: " ")
            guard let severity = Severity.allCases.first(where: { $0.description == name.uppercased() }) else {
                throw .invalidSetting("invalid severity \"\(name)\" in \(flag): one of \(Severity.allCases.map(\.description).joined(separator: ", "))")
            }
            result.insert(severity)
        }
        guard !result.isEmpty else { throw .invalidSetting("\(flag) needs at least one severity") }
        return result
    }

    public static func ignoredIDs(file path: String) throws(ScanError) -> Set<String> {
        let text: String
        do { text = try Files.readString(path) } catch { throw .file(path: path, reason: error.description) }
        var ids = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if let id = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).first { ids.insert(String(id)) }
        }
        return ids
    }

    public func keeps(_ finding: Finding) -> Bool {
        if let severities, !severities.contains(finding.severity) { return false }
        if ignoreUnfixed && finding.fixedVersions.isEmpty { return false }
        if ignoredIDs.contains(finding.advisoryID) || finding.aliases.contains(where: ignoredIDs.contains) { return false }
        return true
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var text = Substring(self)
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return String(text)
    }
}
