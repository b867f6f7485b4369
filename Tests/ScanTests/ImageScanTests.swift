import Foundation
import Testing

/// `caisson sbom` and `caisson scan` on images made from real package data, checked
/// against what the image's own tools report when run inside it, OSV advisories written
/// here in the published schema, and the policy gate of `run`, `create` and `pull`.
@Suite(.serialized) struct ImageScanTests {
    /// The CycloneDX document's components as (type, name, version).
    func components(_ fixture: ScanFixture, _ image: String) throws -> [(String, String, String)] {
        let sbom = try fixture.caisson(["sbom", "--format", "cyclonedx-json", image])
        #expect(sbom.status == 0, "\(sbom.stderr)")
        let document = try fixture.json(sbom.stdout) as? [String: Any] ?? [:]
        return (document["components"] as? [[String: Any]] ?? []).compactMap { component in
            guard let purl = component["purl"] as? String, let name = component["name"] as? String,
                  let version = component["version"] as? String else { return nil }
            return (String(purl.dropFirst(4).prefix { $0 != "/" }), name, version)
        }
    }

    @Test func sbomEqualsWhatTheImageItselfReports() throws {
        let fixture = try ScanFixture()
        defer { #expect((try? fixture.tearDown()) == []) }
        let found = try components(fixture, ScanFixture.app)
        // dpkg-query inside the image: the reference for its Debian packages.
        let dpkg = try fixture.caisson(["run", "--rm", "--network", "none", ScanFixture.app,
                                        "/usr/bin/dpkg-query", "-W", "-f", "${Package} ${Version}\\n"])
        #expect(dpkg.status == 0, "\(dpkg.stderr)")
        let expectedDebian = Set(dpkg.stdout.split(separator: "\n").map(String.init))
        #expect(expectedDebian.count == ScanFixture.debianPackages.count, "\(dpkg.stdout)")
        #expect(Set(found.filter { $0.0 == "deb" }.map { "\($0.1) \($0.2)" }) == expectedDebian)
        // Python's own metadata reading inside the image (what pip list shows): the
        // reference for its Python packages; idna, deleted by the last layer, is in neither.
        let python = try fixture.caisson(["run", "--rm", "--network", "none", ScanFixture.app, "/usr/bin/python3.11", "-c",
            "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'], d.version)"])
        #expect(python.status == 0, "\(python.stderr)")
        let expectedPython = Set(python.stdout.split(separator: "\n").map(String.init))
        #expect(expectedPython == ["six 1.16.0"], "\(python.stdout)")
        #expect(Set(found.filter { $0.0 == "pypi" }.map { "\($0.1) \($0.2)" }) == expectedPython)
        // go version -m inside the image (Debian's Go toolchain mounted in): the reference
        // for the Go binary's modules; the standard library is reported at its version.
        let goVersion = try fixture.caisson(["run", "--rm", "--network", "none", "-v", "/usr/lib/go-1.19:/usr/lib/go-1.19:ro",
                                             ScanFixture.app, "/usr/lib/go-1.19/bin/go", "version", "-m", "/usr/local/bin/app"])
        #expect(goVersion.status == 0, "\(goVersion.stderr)")
        var expectedGo = Set<String>()
        for line in goVersion.stdout.split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            if fields.count >= 3, fields[0] == "mod" || fields[0] == "dep" { expectedGo.insert("\(fields[1]) \(fields[2])") }
            if !line.hasPrefix("\t"), let version = line.split(separator: " ").last { expectedGo.insert("stdlib \(version.dropFirst(2))") }
        }
        #expect(expectedGo.count == 3, "\(goVersion.stdout)")
        #expect(Set(found.filter { $0.0 == "golang" }.map { "\($0.1) \($0.2)" }) == expectedGo)
        // The Rust program's crates, from its cargo-auditable section (SBOMTests compares
        // such lists with cargo tree): the program and the crate linked into it.
        #expect(Set(found.filter { $0.0 == "cargo" }.map { "\($0.1) \($0.2)" }) == ["rustapp 0.1.0", "itoa 1.0.9"])
        // The base image below the deletion still has both.
        let base = try components(fixture, ScanFixture.base)
        #expect(base.filter { $0.0 == "pypi" }.isEmpty)
        let table = try fixture.caisson(["sbom", ScanFixture.app])
        #expect(table.stdout.hasPrefix("NAME"), "\(table.stdout)")
        #expect(table.stdout.contains("six") && !table.stdout.contains("idna"))
    }

    @Test func sbomDocumentsValidateAgainstTheirSchemas() throws {
        let fixture = try ScanFixture()
        defer { #expect((try? fixture.tearDown()) == []) }
        let directory = try Scratch.directory("scan-docs")
        for format in ["spdx-json", "cyclonedx-json"] {
            let written = try fixture.caisson(["sbom", "--format", format, "-o", "\(directory)/\(format).json", ScanFixture.app])
            #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
        }
        let schemas = ScanFixture.source("Tests/Fixtures/sbom")
        let check = try Shell.run("/usr/bin/env", ["python3", "-c", """
            import json, sys, jsonschema
            from jsonschema import Draft7Validator
            schemas = sys.argv[1]
            store = {}
            for name in ['spdx.schema.json', 'jsf-0.82.schema.json', 'bom-1.5.schema.json', 'spdx-schema.json']:
                document = json.load(open(schemas + '/' + name))
                store[name] = document
                if '$id' in document: store[document['$id']] = document
            def validate(schema, document):
                resolver = jsonschema.RefResolver.from_schema(schema, store=store)
                jsonschema.validators.validator_for(schema)(schema, resolver=resolver).validate(document)
            validate(store['spdx-schema.json'], json.load(open(sys.argv[2])))
            validate(store['bom-1.5.schema.json'], json.load(open(sys.argv[3])))
            print('valid')
            """, schemas, directory + "/spdx-json.json", directory + "/cyclonedx-json.json"])
        #expect(check.status == 0 && check.stdout == "valid\n", "\(check.stderr)")
        let bad = try fixture.caisson(["sbom", "--format", "xml", ScanFixture.app])
        #expect(bad.status == 125 && bad.stderr.contains("--format"))
        let missing = try fixture.caisson(["sbom", "localhost/none:1"])
        #expect(missing.status == 125 && missing.stderr.contains("localhost/none:1"), "\(missing.stderr)")
    }

    /// Advisories on both sides of the installed versions, in the published OSV schema.
    static func writeAdvisories(_ directory: String) throws {
        let entries: [(String, String)] = [
            ("glibc-open", #"{"id": "DEBIAN-CVE-2099-0001", "modified": "2099-01-01T00:00:00Z", "aliases": ["CVE-2099-0001"], "summary": "glibc overflow", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}], "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb99u1"}]}]}]}"#),
            ("glibc-fixed", #"{"id": "DEBIAN-CVE-2000-0002", "modified": "2000-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-1"}]}]}]}"#),
            ("glibc-other-release", #"{"id": "DEBIAN-CVE-2099-0003", "modified": "2099-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:11", "name": "glibc"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#),
            ("zlib-epoch", #"{"id": "DEBIAN-CVE-2099-0004", "modified": "2099-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.3"}]}]}]}"#),
            ("six", #"{"id": "GHSA-six-0001", "modified": "2099-01-01T00:00:00Z", "aliases": ["CVE-2099-0005"], "database_specific": {"severity": "MODERATE"}, "affected": [{"package": {"ecosystem": "PyPI", "name": "Six"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "1.16.0"}]}]}]}"#),
            ("idna", #"{"id": "GHSA-idna-0001", "modified": "2099-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "PyPI", "name": "idna"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.7"}]}]}]}"#),
            ("go-module", #"{"id": "GO-2099-0001", "modified": "2099-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Go", "name": "example.org/greeting"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.4"}]}]}]}"#),
            ("rust-crate", #"{"id": "RUSTSEC-2099-0001", "modified": "2099-01-01T00:00:00Z", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}], "affected": [{"package": {"ecosystem": "crates.io", "name": "itoa"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.10"}]}]}]}"#),
            ("withdrawn", #"{"id": "DEBIAN-CVE-2099-0006", "modified": "2099-01-01T00:00:00Z", "withdrawn": "2099-02-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "expat"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#),
        ]
        for (name, text) in entries {
            try text.write(toFile: "\(directory)/\(name).json", atomically: true, encoding: .utf8)
        }
    }

    @Test func scanFindsWhatTheAdvisoriesSayAndGatesImages() throws {
        let fixture = try ScanFixture()
        defer { #expect((try? fixture.tearDown()) == []) }
        let noDatabase = try fixture.caisson(["scan", ScanFixture.app])
        #expect(noDatabase.status == 125 && noDatabase.stderr.contains("caisson scan db import"), "\(noDatabase.stderr)")
        let advisories = try Scratch.directory("scan-osv")
        try Self.writeAdvisories(advisories)
        let imported = try fixture.caisson(["scan", "db", "import", advisories])
        #expect(imported.status == 0 && imported.stdout.contains("8 added"), "\(imported.stdout)\(imported.stderr)")
        let status = try fixture.caisson(["scan", "db", "status", "--format", "json"])
        let statusDocument = try fixture.json(status.stdout) as? [String: Any]
        #expect(statusDocument?["advisories"] as? Int == 8, "\(status.stdout)")

        let json = try fixture.caisson(["scan", "--format", "json", ScanFixture.app])
        #expect(json.status == 0, "\(json.stderr)")
        let report = try fixture.json(json.stdout) as? [String: Any] ?? [:]
        let findings = (report["findings"] as? [[String: Any]] ?? []).map { "\($0["package"] ?? "") \($0["id"] ?? "") \($0["severity"] ?? "")" }
        // zlib1g is 1:1.2.13...: its epoch puts it above the advisory's "1.3" (epoch 0).
        #expect(Set(findings) == ["libc6 DEBIAN-CVE-2099-0001 CRITICAL", "six GHSA-six-0001 MEDIUM",
                                  "example.org/greeting GO-2099-0001 UNKNOWN", "itoa RUSTSEC-2099-0001 HIGH"], "\(json.stdout)")
        let glibc = (report["findings"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "DEBIAN-CVE-2099-0001" }
        #expect(glibc?["fixedVersions"] as? [String] == ["2.36-9+deb99u1"])
        #expect(glibc?["score"] as? Double == 9.8)
        #expect((glibc?["matched"] as? String)?.hasPrefix("glibc 2.36-") == true, "matched on the source package")

        let unfixed = try fixture.caisson(["scan", "--ignore-unfixed", "--severity", "critical,medium", ScanFixture.app])
        #expect(unfixed.stdout.contains("DEBIAN-CVE-2099-0001") && !unfixed.stdout.contains("GHSA-six-0001"), "\(unfixed.stdout)")
        let ignoreFile = advisories + "/ignore"
        try "# accepted\nCVE-2099-0001  reviewed\n".write(toFile: ignoreFile, atomically: true, encoding: .utf8)
        let ignored = try fixture.caisson(["scan", "--ignore-file", ignoreFile, "--fail-on", "critical", ScanFixture.app])
        #expect(ignored.status == 0 && !ignored.stdout.contains("DEBIAN-CVE-2099-0001"), "an alias in the ignore file drops it")
        let failing = try fixture.caisson(["scan", "--fail-on", "critical", ScanFixture.app])
        #expect(failing.status == 1)
        let sarif = try fixture.caisson(["scan", "--format", "sarif", ScanFixture.app])
        let sarifDocument = try fixture.json(sarif.stdout) as? [String: Any]
        #expect(sarifDocument?["version"] as? String == "2.1.0")
        #expect(((sarifDocument?["runs"] as? [[String: Any]])?.first?["results"] as? [Any])?.count == 4)

        let listed = try fixture.caisson(["images", "--format", "{{.Repository}}:{{.Tag}} {{.Vulnerabilities}}"])
        #expect(listed.stdout.contains("localhost/scan-debian:app 4 (1 critical, 1 high, 1 medium, 1 unknown)"), "\(listed.stdout)")
        let context = try Scratch.directory("scan-build")
        try "FROM \(ScanFixture.app)\nENV SCANNED=1\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let built = try fixture.caisson(["build", "--scan", "-t", "localhost/scan-debian:rebuilt", context])
        #expect(built.status == 0 && built.stdout.contains("DEBIAN-CVE-2099-0001") && built.stdout.contains("4 vulnerabilities"), "\(built.stdout)\(built.stderr)")

        // The gate: blocked images make nothing; warned ones run.
        let before = try fixture.caisson(["ps", "-a", "-q"]).stdout
        let blocked = try fixture.caisson(["run", "--rm", "--network", "none", "--scan-policy", "block:critical", ScanFixture.app, "/bin/sh", "-c", "true"])
        #expect(blocked.status == 125 && blocked.stderr.contains("DEBIAN-CVE-2099-0001"), "\(blocked.stderr)")
        let created = try fixture.caisson(["create", "--scan-policy", "block:high", ScanFixture.app])
        #expect(created.status == 125)
        #expect(try fixture.caisson(["ps", "-a", "-q"]).stdout == before, "a refused image leaves no container")
        let config = advisories + "/caisson.conf"
        try "[scan]\npolicy = \"block:critical\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["CAISSON_CONFIG"] = config
        let byConfig = try fixture.caisson(["run", "--rm", "--network", "none", ScanFixture.base, "/bin/sh", "-c", "true"], environment: environment)
        #expect(byConfig.status == 125, "the config file's policy applies without the flag")
        let overridden = try fixture.caisson(["run", "--rm", "--network", "none", "--scan-policy", "warn", ScanFixture.app,
                                              "/bin/sh", "-c", "echo ran"], environment: environment)
        #expect(overridden.status == 0 && overridden.stdout == "ran\n" && overridden.stderr.contains("vulnerabilit"), "\(overridden.stderr)")
        let badPolicy = try fixture.caisson(["run", "--rm", "--scan-policy", "block:purple", ScanFixture.app])
        #expect(badPolicy.status == 125 && badPolicy.stderr.contains("block:SEVERITY"))
        let badSeverity = try fixture.caisson(["scan", "--severity", "urgent", ScanFixture.app])
        #expect(badSeverity.status == 125 && badSeverity.stderr.contains("urgent"))
        let badFailOn = try fixture.caisson(["scan", "--fail-on", "purple", ScanFixture.app])
        #expect(badFailOn.status == 125 && badFailOn.stderr.contains("\"purple\" in --fail-on"), "\(badFailOn.stderr)")

        // Results are kept per database state: a new import is seen by the next scan.
        let more = try Scratch.directory("scan-osv-more")
        try #"{"id": "DEBIAN-CVE-2099-0009", "modified": "2099-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "dash"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#
            .write(toFile: more + "/dash.json", atomically: true, encoding: .utf8)
        #expect(try fixture.caisson(["scan", "db", "import", more]).status == 0)
        let rescanned = try fixture.caisson(["scan", ScanFixture.app])
        #expect(rescanned.stdout.contains("DEBIAN-CVE-2099-0009") && rescanned.stdout.contains("5 vulnerabilities"), "\(rescanned.stdout)")
    }

    @Test func pullIsGatedAndARefusedImageIsRemovedAgain() throws {
        let fixture = try ScanFixture()
        defer { #expect((try? fixture.tearDown()) == []) }
        let registry = try TestRegistry()
        defer { registry.stop() }
        let advisories = try Scratch.directory("scan-osv")
        try Self.writeAdvisories(advisories)
        #expect(try fixture.caisson(["scan", "db", "import", advisories]).status == 0)
        let remote = "\(registry.host)/scan/app:1"
        #expect(try fixture.caisson(["tag", ScanFixture.app, remote]).status == 0)
        let pushed = try fixture.caisson(["push", remote])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(try fixture.caisson(["rmi", remote, ScanFixture.app]).status == 0)
        let refused = try fixture.caisson(["pull", "--scan-policy", "block:critical", remote])
        #expect(refused.status == 125 && refused.stderr.contains("breaks the scan policy"), "\(refused.stderr)")
        #expect(try fixture.caisson(["images", "-q", remote]).stdout.isEmpty, "the refused image is not kept")
        let warned = try fixture.caisson(["pull", "--scan-policy", "warn", remote])
        #expect(warned.status == 0 && warned.stderr.contains("4 vulnerabilities"), "\(warned.stderr)")
        #expect(!(try fixture.caisson(["images", "-q", remote]).stdout.isEmpty))
    }
}
