import CaissonTestSupport
import Foundation
import SBOM
import Testing

/// The dpkg cataloger against dpkg itself: a Debian root made by `dpkg --root` from
/// real .deb files (installed, unpacked only, removed with its configuration kept),
/// plus status paragraphs in every other state, must list what `dpkg-query -W` lists,
/// with the source packages, file lists and sources dpkg-query reports.
@Suite(.serialized)
struct DpkgCatalogerTests {
    typealias S = SBOMTestSupport

    /// Small packages covering: an epoch and a versioned Source (default-jre), a
    /// Source without version (libgcc-s1, Multi-Arch: same), DEP-5 copyright files
    /// (hostname, libacl1), os-release and its symlink (base-files).
    static let installed = ["base-files", "netbase", "libacl1", "libgcc-s1"]
    static let unpacked = ["hostname", "default-jre"]

    /// The .deb files, downloaded once per test run.
    static let debs: Result<String, any Error> = Result {
        try S.require("apt-get", debianPackage: "apt")
        let directory = try Scratch.directory("sbom-debs")
        try S.sh("cd \(directory) && apt-get download \((installed + unpacked).joined(separator: " ")) 2>&1")
        return directory
    }

    /// Extra status paragraphs in the states the real installs do not produce.
    static let otherStates = """

        Package: purged
        Status: purge ok not-installed
        Version: 1.0
        Architecture: all
        Maintainer: Nobody <nobody@example.org>
        Description: purged

        Package: halfinstalled
        Status: install reinstreq half-installed
        Version: 3.0-1
        Architecture: amd64
        Maintainer: Nobody <nobody@example.org>
        Description: half-installed

        Package: triggerspending
        Status: install ok triggers-pending
        Version: 4.0
        Architecture: amd64
        Triggers-Pending: something
        Maintainer: Nobody <nobody@example.org>
        Description: triggers-pending

        Package: triggersawaited
        Status: install ok triggers-awaited
        Version: 5.0
        Architecture: amd64
        Triggers-Awaited: triggerspending
        Maintainer: Nobody <nobody@example.org>
        Description: triggers-awaited

        Package: halfconfigured
        Status: hold ok half-configured
        Version: 6.0
        Architecture: amd64
        Source: other-source (5.9)
        Maintainer: Nobody <nobody@example.org>
        Description: half-configured

        """

    static func makeRoot(_ root: String) throws {
        try S.require("dpkg", debianPackage: "dpkg")
        let debs = try Self.debs.get()
        func files(_ names: [String]) -> String { names.map { "\(debs)/\($0)_*.deb" }.joined(separator: " ") }
        try S.sh("""
            R=\(root)
            mkdir -p $R/var/lib/dpkg/info $R/var/lib/dpkg/updates $R/var/lib/dpkg/triggers
            touch $R/var/lib/dpkg/status $R/var/lib/dpkg/available
            dpkg --root=$R --force-all --install \(files(installed)) >/dev/null 2>&1 || true
            dpkg --root=$R --force-all --unpack \(files(unpacked)) >/dev/null 2>&1 || true
            dpkg --root=$R --force-all --remove netbase >/dev/null 2>&1 || true
            """)
        let status = root + "/var/lib/dpkg/status"
        let text = try String(contentsOfFile: status, encoding: .utf8)
        try (text + otherStates).write(toFile: status, atomically: false, encoding: .utf8)
    }

    /// `dpkg-query -W` with a format, one line a package, fields split on tabs.
    static func query(_ root: String, _ format: String) throws -> [[String]] {
        try S.sh("dpkg-query --admindir=\(root)/var/lib/dpkg -W -f '\(format)\\n' 2>/dev/null")
            .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func listsWhatDpkgQueryLists() throws {
        try S.withScratch("dpkg") { root in
            try Self.makeRoot(root)
            let files = DirectoryImageFiles(root: root, layer: "sha256:base")
            let result = CatalogRun().run(files)
            #expect(result.problems.isEmpty, "\(result.problems)")
            let packages = result.packages.filter { $0.ecosystem == .debian }

            let reference = try Self.query(root, "${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}")
            #expect(reference.count == 10, "dpkg-query listed \(reference)")
            #expect(packages.map { "\($0.name) \($0.version)" }.sorted() == reference.map { "\($0[0]) \($0[1])" }.sorted())
            for row in reference {
                guard let package = packages.first(where: { $0.name == row[0] }) else { continue }
                // dpkg-query gives the binary package as its own source when there is no Source field.
                #expect((package.sourceName ?? package.name) == row[3], "\(row[0]) source")
                #expect((package.sourceVersion ?? package.version) == row[4], "\(row[0]) source version")
                #expect(package.purl.contains("arch=\(row[2])"), "\(package.purl)")
                #expect(package.layer == "sha256:base")
            }

            // The installed files, as dpkg -L lists them.
            for name in Self.installed + Self.unpacked where name != "netbase" {
                let listed = try S.sh("dpkg-query --admindir=\(root)/var/lib/dpkg -L \(name)")
                    .split(separator: "\n").map(String.init).filter { $0 != "/." }
                let package = try #require(packages.first { $0.name == name })
                #expect(Set(package.files) == Set(listed), "\(name)")
                #expect(package.locations.first == "/var/lib/dpkg/status")
            }

            // Licenses: the License: lines of machine-readable copyright files.
            for name in Self.installed + Self.unpacked {
                let expected = try S.sh("""
                    f=\(root)/usr/share/doc/\(name)/copyright
                    if [ -f "$f" ] && head -1 "$f" | grep -q '^Format:'; then
                      grep '^License:' "$f" | sed 's/^License: *//; s/ *$//' | awk '!seen[$0]++'
                    fi
                    """).split(separator: "\n").map(String.init)
                let package = try #require(packages.first { $0.name == name })
                #expect(package.licenses == expected, "\(name)")
            }
            #expect(packages.first { $0.name == "libacl1" }?.licenses.isEmpty == false)

            // purls: vendor and release from the image's os-release.
            let os = try #require(result.operatingSystem)
            let release = try S.sh(". \(root)/usr/lib/os-release; printf %s \"$VERSION_ID\"")
            #expect(os.id == "debian" && os.versionID == release)
            let jre = try #require(packages.first { $0.name == "default-jre" })
            #expect(jre.purl == "pkg:deb/debian/default-jre@\(jre.version)?arch=amd64&distro=debian-\(release)")
            #expect(jre.version.contains(":"))
            let base = try #require(packages.first { $0.name == "base-files" })
            #expect(base.purl == "pkg:deb/debian/base-files@\(base.version.replacingOccurrences(of: "+", with: "%2B"))?arch=amd64&distro=debian-\(release)")
        }
    }

    /// Distroless images: one file a package under status.d (no Status field), named
    /// by package, with a NAME.md5sums beside it; no info/*.list.
    @Test func readsDistrolessStatusDirectories() throws {
        try S.withScratch("distroless") { root in
            try S.require("dpkg-deb", debianPackage: "dpkg")
            let debs = try Self.debs.get()
            var expected: [String] = []
            for name in ["libacl1", "base-files"] {
                let deb = try S.sh("ls \(debs)/\(name)_*.deb").trimmingCharacters(in: .whitespacesAndNewlines)
                try S.sh("""
                    mkdir -p \(root)/var/lib/dpkg/status.d \(root)/control-\(name)
                    dpkg-deb -x \(deb) \(root)
                    dpkg-deb -e \(deb) \(root)/control-\(name)
                    grep -v '^Description\\|^ ' \(root)/control-\(name)/control > \(root)/var/lib/dpkg/status.d/\(name)
                    cp \(root)/control-\(name)/md5sums \(root)/var/lib/dpkg/status.d/\(name).md5sums
                    rm -r \(root)/control-\(name)
                    """)
                expected.append(try S.sh("dpkg-deb -f \(deb) Package Version | cut -d' ' -f2 | paste -sd' '")
                    .trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let output = DpkgCataloger().catalog(CatalogContext(files: DirectoryImageFiles(root: root), operatingSystem: nil))
            #expect(output.problems.isEmpty, "\(output.problems)")
            #expect(output.packages.map { "\($0.name) \($0.version)" }.sorted() == expected.sorted())
            let acl = try #require(output.packages.first { $0.name == "libacl1" })
            #expect(acl.locations.first == "/var/lib/dpkg/status.d/libacl1")
            #expect(acl.files.contains { $0.hasPrefix("/usr/lib/") && $0.contains("libacl.so.1") })
            #expect(acl.purl.hasPrefix("pkg:deb/debian/libacl1@"))
        }
    }

    @Test func aBrokenParagraphIsReportedAndTheOthersKept() throws {
        try S.withScratch("dpkg-broken") { root in
            try S.write(root + "/var/lib/dpkg/status", """
                Package: good
                Status: install ok installed
                Version: 1.0

                Package: noversion
                Status: install ok installed

                Package: badstatus
                Status: install ok exploded
                Version: 2.0

                Package: alsogood
                Status: install ok installed
                Version: 3.0

                """)
            let output = DpkgCataloger().catalog(CatalogContext(files: DirectoryImageFiles(root: root), operatingSystem: nil))
            #expect(output.packages.map(\.name) == ["good", "alsogood"])
            #expect(output.problems.count == 2)
            #expect(output.problems.contains { $0.reason.contains("noversion") && $0.reason.contains("Version") })
            #expect(output.problems.contains { $0.reason.contains("exploded") && $0.path == "/var/lib/dpkg/status" })
        }
    }
}
