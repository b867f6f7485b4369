import CaissonTestSupport
import Foundation
import SBOM
import Testing

/// The npm cataloger against npm: packages packed locally with `npm pack` and
/// installed offline (a scoped one, and two versions of one package, one nested under
/// the package that needs it) must be what `npm ls --all` lists, once each although
/// both node_modules and package-lock.json describe them, and still all of them from
/// the lock file alone once node_modules is gone.
@Suite(.serialized)
struct NodeCatalogerTests {
    typealias S = SBOMTestSupport

    static func makeProject(_ root: String) throws -> String {
        try S.require("npm", debianPackage: "npm")
        let app = root + "/srv/app"
        try S.sh("""
            R=\(root)/packages
            mkdir -p $R/alpha $R/beta1 $R/beta2 \(app)
            printf '{"name":"beta-pkg","version":"1.0.0","license":"ISC"}' > $R/beta1/package.json
            printf '{"name":"beta-pkg","version":"2.1.0","license":"(MIT OR Apache-2.0)"}' > $R/beta2/package.json
            mkdir -p $R/beta2/lib && printf '{"type":"module"}' > $R/beta2/lib/package.json
            (cd $R/beta1 && npm pack --silent --pack-destination $R/v1 >/dev/null 2>&1 || { mkdir -p $R/v1 && npm pack --silent --pack-destination $R/v1 >/dev/null; })
            (cd $R/beta2 && npm pack --silent --pack-destination $R >/dev/null)
            printf '{"name":"@caisson/alpha","version":"1.0.0","license":{"type":"MIT"},"dependencies":{"beta-pkg":"file:%s"}}' $R/v1/beta-pkg-1.0.0.tgz > $R/alpha/package.json
            (cd $R/alpha && npm pack --silent --pack-destination $R >/dev/null)
            cd \(app)
            printf '{"name":"app","version":"0.1.0"}' > package.json
            npm install --offline --no-audit --no-fund --loglevel=error $R/caisson-alpha-1.0.0.tgz $R/beta-pkg-2.1.0.tgz >/dev/null
            """)
        return app
    }

    /// name@version of every package `npm ls --all --json` shows.
    static func npmList(_ app: String) throws -> [String] {
        let json = try S.sh("cd \(app) && npm ls --all --json")
        var result: [String] = []
        func collect(_ dependencies: [String: Any]) {
            for (name, value) in dependencies {
                guard let entry = value as? [String: Any], let version = entry["version"] as? String else { continue }
                result.append("\(name)@\(version)")
                if let nested = entry["dependencies"] as? [String: Any] { collect(nested) }
            }
        }
        let root = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        collect(root?["dependencies"] as? [String: Any] ?? [:])
        return result.sorted()
    }

    static func catalog(_ root: String) -> CatalogerOutput {
        let files = DirectoryImageFiles(root: root)
        let cataloger = NodePackageCataloger()
        var selected: [ImageFileEntry] = []
        files.walk { if cataloger.selects($0) { selected.append($0) } }
        return cataloger.catalog(CatalogContext(files: files, operatingSystem: nil, selectedFiles: selected))
    }

    @Test func listsWhatNpmListsOnceEach() throws {
        try S.withScratch("npm") { root in
            let app = try Self.makeProject(root)
            let reference = try Self.npmList(app)
            #expect(reference == ["@caisson/alpha@1.0.0", "beta-pkg@1.0.0", "beta-pkg@2.1.0"])
            try FileManager.default.removeItem(atPath: root + "/packages")

            let output = Self.catalog(root)
            #expect(output.problems.isEmpty, "\(output.problems)")
            #expect(output.packages.map { "\($0.name)@\($0.version)" }.sorted() == reference)
            let nested = try #require(output.packages.first { $0.version == "1.0.0" && $0.name == "beta-pkg" })
            #expect(nested.locations == ["/srv/app/node_modules/@caisson/alpha/node_modules/beta-pkg/package.json",
                                         "/srv/app/package-lock.json"])
            #expect(nested.licenses == ["ISC"])
            let alpha = try #require(output.packages.first { $0.name == "@caisson/alpha" })
            #expect(alpha.purl == "pkg:npm/%40caisson/alpha@1.0.0")
            #expect(alpha.licenses == ["MIT"])

            // The lock file alone (an image that copied it but not node_modules).
            try FileManager.default.removeItem(atPath: app + "/node_modules")
            let fromLock = Self.catalog(root)
            #expect(fromLock.problems.isEmpty, "\(fromLock.problems)")
            #expect(fromLock.packages.map { "\($0.name)@\($0.version)" }.sorted() == reference)
            #expect(fromLock.packages.allSatisfy { $0.locations == ["/srv/app/package-lock.json"] })
            #expect(fromLock.packages.first { $0.version == "2.1.0" }?.licenses == ["(MIT OR Apache-2.0)"])
        }
    }

    /// lockfileVersion 1 (npm 5 and 6) nests dependencies by name; development-only
    /// ones are left out.
    @Test func readsLockfileVersion1() throws {
        try S.withScratch("npm-v1") { root in
            try S.write(root + "/app/package-lock.json", """
                {
                  "name": "app", "version": "1.0.0", "lockfileVersion": 1, "requires": true,
                  "dependencies": {
                    "left-pad": {"version": "1.3.0", "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz"},
                    "@types/node": {"version": "20.1.0", "dev": true},
                    "outer": {
                      "version": "2.0.0",
                      "requires": {"left-pad": "^1.0.0"},
                      "dependencies": {"left-pad": {"version": "1.1.0"}}
                    }
                  }
                }
                """)
            try S.write(root + "/app/node_modules/outer/package.json", #"{"name":"outer","version":"2.0.0","license":"BSD-2-Clause"}"#)
            try S.write(root + "/app/broken/package-lock.json", "{\"lockfileVersion\": 2, ")
            let output = Self.catalog(root)
            #expect(output.packages.map { "\($0.name)@\($0.version)" }.sorted() == ["left-pad@1.1.0", "left-pad@1.3.0", "outer@2.0.0"])
            #expect(output.packages.first { $0.name == "outer" }?.locations == ["/app/node_modules/outer/package.json", "/app/package-lock.json"])
            #expect(output.problems.map(\.path) == ["/app/broken/package-lock.json"])
        }
    }
}
