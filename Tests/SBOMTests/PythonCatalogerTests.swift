import CaissonTestSupport
import Foundation
import SBOM
import Testing

/// The Python cataloger against pip and importlib.metadata: a `pip install --target`
/// tree of real wheels from PyPI must list what `pip list --path` lists, and egg-info
/// metadata in both forms what importlib.metadata finds.
@Suite(.serialized)
struct PythonCatalogerTests {
    typealias S = SBOMTestSupport

    /// Small pure-Python wheels: a License field (six), License-Expression (idna,
    /// typing_extensions) and a name PEP 503 normalises (typing_extensions).
    static let requirements = ["six==1.17.0", "idna==3.10", "typing_extensions==4.12.2"]

    /// The wheels, downloaded once per test run.
    static let wheels: Result<String, any Error> = Result {
        try S.require("pip", debianPackage: "python3-pip")
        let directory = try Scratch.directory("sbom-wheels")
        try S.sh("pip download --quiet --no-deps --only-binary=:all: -d \(directory) \(requirements.joined(separator: " ")) 2>&1")
        return directory
    }

    struct Listed: Decodable, Hashable {
        let name: String
        let version: String
    }

    @Test func listsWhatPipLists() throws {
        let wheels = try Self.wheels.get()
        try S.withScratch("pip") { root in
            let target = root + "/app/lib"
            try S.sh("pip install --quiet --no-index --find-links \(wheels) --target \(target) \(Self.requirements.joined(separator: " ")) 2>&1")
            let reference = try JSONDecoder().decode([Listed].self, from: Data(S.sh("pip list --path \(target) --format json").utf8))
            #expect(reference.count == 3)

            let output = PythonPackageCataloger().catalog(Self.context(DirectoryImageFiles(root: root)))
            #expect(output.problems.isEmpty, "\(output.problems)")
            #expect(Set(output.packages.map { Listed(name: $0.name, version: $0.version) }) == Set(reference))
            for package in output.packages {
                #expect(package.locations.first == "/app/lib/\(Self.distInfoName(package)).dist-info/METADATA")
                #expect(package.purl == "pkg:pypi/\(PythonPackageName.normalized(package.name))@\(package.version)")
                // RECORD: the files pip installed, every one of them in the tree.
                #expect(!package.files.isEmpty)
                for file in package.files where !file.hasSuffix(".pyc") {
                    #expect(FileManager.default.fileExists(atPath: root + file), "\(file)")
                }
                // Licenses from the fields importlib.metadata reads: License-Expression,
                // else a one-line License, else the License classifiers' last parts.
                let licenses = try S.sh("""
                    python3 -c 'import importlib.metadata as m, sys
                    d = next(m.distributions(name=sys.argv[1], path=[sys.argv[2]]))
                    e, l = d.metadata.get("License-Expression"), d.metadata.get("License")
                    if e: print(e)
                    elif l and l != "UNKNOWN" and "\\n" not in l: print(l)
                    else:
                        for c in d.metadata.get_all("Classifier") or []:
                            parts = [p.strip() for p in c.split("::")]
                            if len(parts) > 2 and parts[0] == "License": print(parts[-1])' \(package.name) \(target)
                    """).split(separator: "\n").map(String.init)
                #expect(!licenses.isEmpty)
                #expect(package.licenses == licenses, "\(package.name)")
            }
            #expect(PythonPackageName.normalized("Typing_Extensions") == "typing-extensions")
            #expect(PythonPackageName.normalized("zope.interface") == "zope-interface")
            #expect(PythonPackageName.normalized("a-_.b") == "a-b")
        }
    }

    static func distInfoName(_ package: CatalogedPackage) -> String { "\(package.name)-\(package.version)" }

    static func context(_ files: any ImageFiles) -> CatalogContext {
        let cataloger = PythonPackageCataloger()
        var selected: [ImageFileEntry] = []
        files.walk { if cataloger.selects($0) { selected.append($0) } }
        return CatalogContext(files: files, operatingSystem: nil, selectedFiles: selected)
    }

    /// egg-info as a directory and as a single file (distutils and old setuptools
    /// installs), with License only in classifiers, and a broken METADATA reported
    /// without hiding the rest.
    @Test func readsEggInfoAsImportlibDoes() throws {
        try S.requirePython("importlib.metadata", pypiPackage: "importlib-metadata (Python 3.8+ has it)")
        try S.withScratch("egg-info") { root in
            let site = root + "/usr/lib/python3/dist-packages"
            try S.write(site + "/Old_Package.egg-info/PKG-INFO", """
                Metadata-Version: 1.1
                Name: Old_Package
                Version: 0.9.1
                Summary: directory egg-info
                License: UNKNOWN
                Classifier: License :: OSI Approved :: BSD License
                Classifier: Programming Language :: Python

                """)
            try S.write(site + "/single_file-2.0-py3.11.egg-info", """
                Metadata-Version: 1.0
                Name: single-file
                Version: 2.0
                License: Apache License
                 (second line of a folded value)

                """)
            try S.write(site + "/broken-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nSummary: no name\n")
            let reference = try S.sh("""
                python3 -c 'import importlib.metadata as m, sys
                for d in m.distributions(path=[sys.argv[1]]):
                    if d.metadata["Name"]: print(d.metadata["Name"], d.version)' \(site)
                """).split(separator: "\n").map(String.init)
            let output = PythonPackageCataloger().catalog(Self.context(DirectoryImageFiles(root: root)))
            #expect(output.packages.map { "\($0.name) \($0.version)" }.sorted() == reference.sorted())
            #expect(output.packages.first { $0.name == "Old_Package" }?.licenses == ["BSD License"])
            #expect(output.packages.first { $0.name == "Old_Package" }?.purl == "pkg:pypi/old-package@0.9.1")
            #expect(output.packages.first { $0.name == "single-file" }?.licenses == [])
            #expect(output.problems.map(\.path) == ["/usr/lib/python3/dist-packages/broken-1.0.dist-info/METADATA"])
        }
    }
}

/// Wheels built on Windows carry CR LF metadata ("\r\n" is one Swift Character).
@Suite struct PythonMetadataLineEndingTests {
    @Test func crlfMetadataIsRead() throws {
        try SBOMTestSupport.withScratch("sbom-crlf") { directory in
            let info = directory + "/usr/lib/python3/dist-packages/demo-1.0.dist-info"
            try SBOMTestSupport.write(info + "/METADATA", "Metadata-Version: 2.1\r\nName: Demo_Pkg\r\nVersion: 1.0\r\nLicense: MIT\r\n\r\nDescription\r\n")
            let result = CatalogRun(catalogers: [PythonPackageCataloger()]).run(DirectoryImageFiles(root: directory))
            #expect(result.problems.isEmpty, "\(result.problems)")
            #expect(result.packages.map { "\($0.name) \($0.version)" } == ["Demo_Pkg 1.0"] || result.packages.map { "\($0.name) \($0.version)" } == ["demo-pkg 1.0"])
            #expect(result.packages.first?.licenses == ["MIT"])
        }
    }
}
