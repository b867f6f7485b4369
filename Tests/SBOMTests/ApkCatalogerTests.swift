import CaissonTestSupport
import Foundation
import Testing
@testable import SBOM

/// Alpine's installed database in its published format (apk-tools' `lib/apk/db/installed`:
/// one paragraph a package, `P:` name, `V:` version, `A:` arch, `L:` license, `o:` origin,
/// `F:` directories and `R:` files): apk-tools is not packaged for Debian, so the database is
/// written here as apk writes it, with the values of Alpine 3.19's real packages.
@Suite struct ApkCatalogerTests {
    static let installed = """
        C:Q1r2Jd0Fz8yQ7wXyEo8rQKqVvPV6o=
        P:busybox
        V:1.36.1-r15
        A:x86_64
        S:509380
        I:929792
        T:Size optimized toolbox of many common UNIX utilities
        U:https://busybox.net/
        L:GPL-2.0-only
        o:busybox
        m:Sören Tempel <soeren+alpine@soeren-tempel.net>
        t:1702999133
        c:0a0d5b6f0c0a5bc2c7b4aab5b7f0e1f3c21d4c6e
        D:so:libc.musl-x86_64.so.1
        F:bin
        R:busybox
        a:0:0:755

        C:Q1nP2pYjwFQpP9zMg8JcZsG3o2wP0=
        P:libcrypto3
        V:3.1.4-r5
        A:x86_64
        L:Apache-2.0
        o:openssl
        F:lib
        R:libcrypto.so.3
        F:usr/lib
        R:libcrypto.so.3

        """

    @Test func readsTheInstalledDatabase() throws {
        try SBOMTestSupport.withScratch("sbom-apk") { directory in
            try SBOMTestSupport.write(directory + "/lib/apk/db/installed", Self.installed)
            try SBOMTestSupport.write(directory + "/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n")
            let result = CatalogRun(catalogers: [ApkCataloger()]).run(DirectoryImageFiles(root: directory))
            #expect(result.problems.isEmpty, "\(result.problems)")
            let found = result.packages.map { "\($0.name) \($0.version) \($0.sourceName ?? "-") \($0.licenses.joined())" }
            #expect(Set(found) == ["busybox 1.36.1-r15 busybox GPL-2.0-only", "libcrypto3 3.1.4-r5 openssl Apache-2.0"], "\(found)")
            let crypto = result.packages.first { $0.name == "libcrypto3" }
            #expect(crypto?.ecosystem == .alpine)
            #expect(crypto?.purl.hasPrefix("pkg:apk/alpine/libcrypto3@3.1.4-r5") == true, "\(crypto?.purl ?? "")")
            #expect(crypto?.locations.contains("/lib/apk/db/installed") == true)
        }
    }

    @Test func aParagraphWithoutVersionIsReported() throws {
        try SBOMTestSupport.withScratch("sbom-apk-bad") { directory in
            try SBOMTestSupport.write(directory + "/lib/apk/db/installed", "P:broken\nA:x86_64\n\nP:ok\nV:1.0-r0\n\n")
            let result = CatalogRun(catalogers: [ApkCataloger()]).run(DirectoryImageFiles(root: directory))
            #expect(result.packages.map(\.name) == ["ok"])
            #expect(result.problems.count == 1 && result.problems[0].reason.contains("broken"), "\(result.problems)")
        }
    }
}
