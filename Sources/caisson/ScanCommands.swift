#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CaissonJSON
import CaissonSys
import CLIFormatting
import ImageScanning
import Images
import SBOM
import VulnerabilityDB

/// The version `caisson sbom` and `caisson scan` write into their documents.
let caissonVersion = "0.1.0"

/// `caisson sbom IMAGE`: the image's packages, read from its layers (nothing runs).
struct SBOMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbom", abstract: "List the packages in an image (software bill of materials).",
        usage: "caisson sbom [OPTIONS] IMAGE",
        discussion: "Reads the package managers' metadata in the image's layers (dpkg, apk, rpm, Python, Node; nothing in the image runs).")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(help: "table, spdx-json or cyclonedx-json.") var format = "table"
    @Option(name: .shortAndLong, help: "Write the document to this file instead of standard output.") var output: String?
    @Argument(help: "IMAGE") var image: String

    func run() throws {
        guard ["table", "spdx-json", "cyclonedx-json"].contains(format) else {
            throw CLIError.usage("invalid --format \"\(format)\": table, spdx-json or cyclonedx-json")
        }
        let service = try global.imageService()
        let record: ImageRecord
        do { record = try service.resolve(image) } catch { throw CLIError.failedWithStatus(error.description, 125) }
        let catalog: ImageCatalog
        do { catalog = try ImageInventory(service: service).catalog(record) } catch { throw CLIError.failedWithStatus(error.description, 125) }
        for problem in catalog.problems { writeError("Warning: \(problem)\n") }
        let document = SBOMDocument(imageName: image, imageID: record.id.description,
                                    imageDigest: record.repoDigests.first.flatMap { $0.split(separator: "@").last.map(String.init) },
                                    operatingSystem: catalog.operatingSystem, packages: catalog.packages,
                                    toolVersion: caissonVersion, created: .now(), serial: .random())
        let bytes: [UInt8]
        switch format {
        case "spdx-json": bytes = document.spdxJSON()
        case "cyclonedx-json": bytes = document.cycloneDXJSON()
        default: bytes = Array(document.table().utf8)
        }
        try emit(bytes, to: output)
    }
}

/// Writes a document to a file (atomically) or standard output.
func emit(_ bytes: [UInt8], to output: String?) throws {
    if let output {
        do { try Files.write(output, bytes: bytes) } catch { throw CLIError.failed(error.description) }
    } else {
        printOut(String(decoding: bytes, as: UTF8.self))
    }
}

/// `caisson scan`: an image against the vulnerability database, and the database itself.
struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan", abstract: "Check an image for known vulnerabilities (offline, OSV data).",
        usage: "caisson scan [OPTIONS] IMAGE\n       caisson scan db import|status",
        discussion: """
            Options of `caisson scan IMAGE` (all of them: `caisson scan image --help`):
              --severity LIST       only these severities (CRITICAL,HIGH,MEDIUM,LOW,NEGLIGIBLE,UNKNOWN)
              --fail-on SEVERITY    exit 1 when a vulnerability of this severity or worse is found
              --ignore-unfixed      leave out vulnerabilities with no fixed version
              --ignore-file FILE    advisory ids or aliases to leave out, one per line
              --format FORMAT       table, json or sarif
              -o, --output FILE     write the report to FILE
            """,
        subcommands: [ScanImage.self, ScanDatabase.self], defaultSubcommand: ScanImage.self)
}

struct ScanImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Scan an image.", usage: "caisson scan image [OPTIONS] IMAGE\n       caisson scan [OPTIONS] IMAGE",
        discussion: "Exit status: 0, or 1 when --fail-on finds a vulnerability of that severity or worse; 125 for other errors.")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(help: "Only these severities, comma separated (CRITICAL,HIGH,MEDIUM,LOW,NEGLIGIBLE,UNKNOWN).") var severity: String?
    @Option(name: .customLong("fail-on"), help: "Exit 1 when a vulnerability of this severity or worse is found.") var failOn: String?
    @Flag(name: .customLong("ignore-unfixed"), help: "Leave out vulnerabilities with no fixed version.") var ignoreUnfixed = false
    @Option(name: .customLong("ignore-file"), help: "File of advisory ids (or aliases such as CVE ids) to leave out, one per line.") var ignoreFile: String?
    @Option(help: "table, json or sarif.") var format = "table"
    @Option(name: .shortAndLong, help: "Write the report to this file instead of standard output.") var output: String?
    @Argument(help: "IMAGE") var image: String

    func run() throws {
        guard ["table", "json", "sarif"].contains(format) else {
            throw CLIError.usage("invalid --format \"\(format)\": table, json or sarif")
        }
        var filter = ScanFilter()
        var threshold: Severity?
        do {
            if let severity { filter.severities = try ScanFilter.severities(severity) }
            if let failOn {
                let levels = try ScanFilter.severities(failOn, flag: "--fail-on")
                guard levels.count == 1 else { throw ScanError.invalidSetting("--fail-on takes one severity") }
                threshold = levels.first
            }
            filter.ignoreUnfixed = ignoreUnfixed
            if let ignoreFile { filter.ignoredIDs = try ScanFilter.ignoredIDs(file: ignoreFile) }
        } catch let error as ScanError {
            throw CLIError.usage(error.description)
        }
        let service = try global.imageService()
        let record: ImageRecord
        do { record = try service.resolve(image) } catch { throw CLIError.failedWithStatus(error.description, 125) }
        let scanner = try global.scanner(service)
        let report: ScanReport
        do { report = try scanner.scan(record, name: image, filter: filter) } catch { throw CLIError.failedWithStatus(error.description, 125) }
        for problem in report.problems { writeError("Warning: \(problem)\n") }
        switch format {
        case "json": try emit(report.json(), to: output)
        case "sarif": try emit(report.sarif(), to: output)
        default: try emit(Array(report.table().utf8), to: output)
        }
        if let threshold, report.findings.contains(where: { $0.severity >= threshold }) {
            throw ExitCode(1)
        }
    }
}

struct ScanDatabase: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Manage the vulnerability database.", usage: "caisson scan db COMMAND",
        subcommands: [ScanDatabaseImport.self, ScanDatabaseStatus.self])
}

struct ScanDatabaseImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Load OSV advisories from a directory, zip or tar.", usage: "caisson scan db import [OPTIONS] PATH",
        discussion: "PATH holds OSV JSON files (one entry or an array per file), e.g. osv.dev's per-ecosystem all.zip. Imports are incremental: entries are replaced only by newer ones, withdrawn entries are removed.")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument(help: "PATH") var path: String

    func run() throws {
        let scanner = try global.scanner(try global.imageService())
        do {
            let database = try scanner.openDatabase(create: true)
            let summary = try OSVImport.run(path, into: database)
            for (file, reason) in summary.skipped { writeError("Warning: skipped \(file): \(reason)\n") }
            print("Imported \(path): \(summary.added) added, \(summary.updated) updated, \(summary.unchanged) unchanged, \(summary.withdrawn) withdrawn, \(summary.skipped.count) skipped")
        } catch let error as ScanError {
            throw CLIError.failedWithStatus(error.description, 125)
        } catch let error as VulnerabilityDatabaseError {
            throw CLIError.failedWithStatus(error.description, 125)
        }
    }
}

struct ScanDatabaseStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show what the vulnerability database holds.", usage: "caisson scan db status [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(help: "table or json.") var format = "table"

    func run() throws {
        guard ["table", "json"].contains(format) else { throw CLIError.usage("invalid --format \"\(format)\": table or json") }
        let scanner = try global.scanner(try global.imageService())
        let status: VulnerabilityDatabase.Status
        do { status = try scanner.openDatabase(create: false).status() } catch let error as ScanError {
            throw CLIError.failed(error.description)
        } catch let error as VulnerabilityDatabaseError {
            throw CLIError.failed(error.description)
        }
        if format == "json" {
            var object = JSONObject()
            object.set("path", .string(scanner.databasePath))
            object.set("advisories", .number(String(status.advisories)))
            object.set("newestModified", status.newestModified.map { .string($0) } ?? .null)
            object.set("imported", status.imported.map { .string($0) } ?? .null)
            object.set("source", status.source.map { .string($0) } ?? .null)
            object.set("schemaVersion", .number(String(status.schemaVersion)))
            var ecosystems = JSONObject()
            for (ecosystem, entries) in status.packagesByEcosystem { ecosystems.set(ecosystem, .number(String(entries))) }
            object.set("ecosystems", .object(ecosystems))
            printOut(String(decoding: JSONEncoding.serialize(.object(object), pretty: true), as: UTF8.self) + "\n")
            return
        }
        var text = "Database:        \(scanner.databasePath)\n"
        text += "Advisories:      \(status.advisories)\n"
        text += "Newest entry:    \(status.newestModified ?? "-")\n"
        text += "Last import:     \(status.imported ?? "-")\(status.imported.map { " (\(ageText($0)))" } ?? "")\n"
        text += "Imported from:   \(status.source ?? "-")\n"
        text += "Affected entries by ecosystem:\n"
        for (ecosystem, count) in status.packagesByEcosystem { text += "  \(ecosystem): \(count)\n" }
        printOut(text)
    }

    func ageText(_ stamp: String) -> String {
        guard let seconds = Time.parseRFC3339(stamp) else { return "unknown age" }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let age = Int(now.tv_sec) - Int(seconds)
        if age < 120 { return "\(max(age, 0)) seconds ago" }
        if age < 7200 { return "\(age / 60) minutes ago" }
        if age < 172_800 { return "\(age / 3600) hours ago" }
        return "\(age / 86400) days ago"
    }
}

extension GlobalOptions {
    func scanner(_ service: ImageService) throws -> ImageScanner {
        let settings: ScanSettings
        do {
            settings = try ScanSettings.load(environment: ProcessEnvironment.current)
        } catch {
            throw CLIError.usage(error.description)
        }
        return ImageScanner(service: service, settings: settings, toolVersion: caissonVersion)
    }

    /// The policy of `--scan-policy`, else the config file's.
    func scanPolicy(_ flag: String?) throws -> ScanPolicy {
        do {
            if let flag { return try ScanPolicy(parsing: flag) }
            return try ScanSettings.load(environment: ProcessEnvironment.current).policy
        } catch {
            throw CLIError.usage(error.description)
        }
    }

    /// Applies a scan policy to an image about to be used; returns normally when allowed.
    func enforceScanPolicy(_ policy: ScanPolicy, service: ImageService, record: ImageRecord, name: String) throws {
        guard policy != .never else { return }
        switch try scanner(service).gate(record, name: name, policy: policy) {
        case .allowed:
            return
        case .warned(let report):
            writeError("Warning: \(name): \(report.summaryLine)\n")
        case .unavailable(let reason, let refuse):
            if refuse { throw CLIError.usage("scan policy \(policy) cannot be checked: \(reason)") }
            writeError("Warning: image not scanned: \(reason)\n")
        case .refused(let report, let violations):
            var text = "image \(name) breaks the scan policy \(policy): \(violations.count) finding\(violations.count == 1 ? "" : "s") at or above its severity\n"
            for finding in violations {
                let fixed = finding.fixedVersions.isEmpty ? "no fix" : "fixed in \(finding.fixedVersions.joined(separator: ", "))"
                text += "  \(finding.severity.description) \(finding.advisoryID) \(finding.package.name) \(finding.package.version) (\(fixed))\n"
            }
            text += report.summaryLine
            throw CLIError.usage(text)
        }
    }
}

enum ProcessEnvironment {
    static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") { result[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
            pointer += 1
        }
        return result
    }
}
