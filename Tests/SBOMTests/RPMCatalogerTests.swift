import CaissonTestSupport
import Foundation
import Testing
@testable import SBOM

/// A real SQLite rpmdb: two packages built here with `rpmbuild` (one with an epoch and a
/// license) and registered with `rpm --dbpath --justdb`; the cataloger's list must be
/// what `rpm -qa` answers from the same database. The Berkeley DB format is refused by name.
@Suite struct RPMCatalogerTests {
    static func buildPackage(_ directory: String, name: String, version: String, release: String, epoch: Int?, license: String) throws {
        let spec = """
            Name: \(name)
            Version: \(version)
            Release: \(release)
            \(epoch.map { "Epoch: \($0)" } ?? "")
            Summary: test package
            License: \(license)
            BuildArch: noarch
            %description
            A package made by the SBOM tests.
            %install
            mkdir -p %{buildroot}/usr/share/\(name)
            echo \(name) > %{buildroot}/usr/share/\(name)/README
            %files
            /usr/share/\(name)/README
            """
        try SBOMTestSupport.write("\(directory)/\(name).spec", spec)
        try SBOMTestSupport.sh("rpmbuild --quiet -bb --define '_topdir \(directory)/build' \(SBOMTestSupport.quote("\(directory)/\(name).spec")) >/dev/null 2>&1")
    }

    @Test func listsWhatRpmQaLists() throws {
        try SBOMTestSupport.require("rpmbuild", debianPackage: "rpm")
        try SBOMTestSupport.withScratch("sbom-rpm") { directory in
            try Self.buildPackage(directory, name: "demo-tool", version: "1.2.3", release: "4.el9", epoch: nil, license: "MIT")
            try Self.buildPackage(directory, name: "demo-lib", version: "2.0", release: "1", epoch: 3, license: "GPL-2.0-or-later")
            let root = directory + "/root"
            let dbpath = root + "/var/lib/rpm"
            try SBOMTestSupport.sh("""
                mkdir -p \(SBOMTestSupport.quote(dbpath))
                rpm --dbpath \(SBOMTestSupport.quote(dbpath)) --initdb
                rpm --dbpath \(SBOMTestSupport.quote(dbpath)) -i --justdb --nodeps --ignorearch --ignoreos \(SBOMTestSupport.quote(directory))/build/RPMS/noarch/*.rpm
                """)
            let reference = try SBOMTestSupport.sh("rpm --dbpath \(SBOMTestSupport.quote(dbpath)) -qa --qf '%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{LICENSE}\\n'")
            let result = CatalogRun(catalogers: [RPMDatabaseCataloger()]).run(DirectoryImageFiles(root: root))
            #expect(result.problems.isEmpty, "\(result.problems)")
            let found = Set(result.packages.map { "\($0.name) \($0.version) \($0.licenses.joined(separator: " "))" })
            #expect(found == Set(reference.split(separator: "\n").map(String.init)), "rpm -qa: \(reference)")
            #expect(found.count == 2)
        }
    }

    @Test func berkeleyDBIsRefusedByName() throws {
        try SBOMTestSupport.withScratch("sbom-rpm-bdb") { directory in
            try SBOMTestSupport.write(directory + "/var/lib/rpm/Packages", "\u{0}\u{6}\u{15}\u{61} Berkeley DB")
            let result = CatalogRun(catalogers: [RPMDatabaseCataloger()]).run(DirectoryImageFiles(root: directory))
            #expect(result.packages.isEmpty)
            #expect(result.problems.first?.reason.contains("Berkeley") == true, "\(result.problems)")
        }
    }
}
