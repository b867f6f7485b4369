import CaissonTestSupport
import Foundation
import Testing
@testable import SBOM

/// Go executables built here by Debian's Go with a vendored module of a known version
/// (offline: GOPROXY=off, -mod=vendor), read without running them and compared with
/// what `go version -m` reports of the same binary; stripped binaries too.
@Suite struct GoBinaryCatalogerTests {
    static func buildApp(_ directory: String) throws {
        try SBOMTestSupport.require("go", debianPackage: "golang-go")
        let source = directory + "/src"
        try SBOMTestSupport.write(source + "/go.mod", "module example.com/scanapp\n\ngo 1.19\n\nrequire example.org/greeting v1.2.3\n")
        try SBOMTestSupport.write(source + "/main.go", "package main\n\nimport \"example.org/greeting\"\n\nfunc main() { println(greeting.Hello()) }\n")
        try SBOMTestSupport.write(source + "/vendor/example.org/greeting/greeting.go", "package greeting\n\nfunc Hello() string { return \"hello\" }\n")
        try SBOMTestSupport.write(source + "/vendor/modules.txt", "# example.org/greeting v1.2.3\n## explicit\nexample.org/greeting\n")
        let environment = "cd \(SBOMTestSupport.quote(source)) && GOFLAGS=-mod=vendor GOPROXY=off GOCACHE=\(SBOMTestSupport.quote(directory + "/cache")) CGO_ENABLED=0 HOME=\(SBOMTestSupport.quote(directory))"
        _ = try SBOMTestSupport.sh("mkdir -p \(SBOMTestSupport.quote(directory + "/root/usr/local/bin")) && \(environment) go build -o \(SBOMTestSupport.quote(directory + "/root/usr/local/bin/app")) .")
        _ = try SBOMTestSupport.sh("\(environment) go build -ldflags='-s -w' -o \(SBOMTestSupport.quote(directory + "/root/usr/local/bin/app-stripped")) .")
    }

    /// `go version -m`'s modules as "path version" lines, replacements applied.
    static func reference(_ binary: String) throws -> (go: String, modules: Set<String>) {
        let text = try SBOMTestSupport.sh("go version -m \(SBOMTestSupport.quote(binary))")
        var go = "", modules = Set<String>()
        var last: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespaces) }
            if !line.hasPrefix("\t"), let version = line.split(separator: " ").last { go = String(version); continue }
            guard fields.count >= 3 else { continue }
            switch fields[0] {
            case "mod", "dep":
                if let last { modules.insert(last) }
                last = "\(fields[1]) \(fields[2])"
            case "=>": last = "\(fields[1]) \(fields[2])"
            default: break
            }
        }
        if let last { modules.insert(last) }
        return (go, modules)
    }

    @Test func modulesAreWhatGoVersionMReports() throws {
        try SBOMTestSupport.withScratch("sbom-go") { directory in
            try Self.buildApp(directory)
            let files = DirectoryImageFiles(root: directory + "/root")
            let result = CatalogRun(catalogers: [GoBinaryCataloger()]).run(files)
            for binary in ["app", "app-stripped"] {
                let path = "/usr/local/bin/" + binary
                let expected = try Self.reference(directory + "/root" + path)
                let found = result.packages.filter { $0.locations == [path] }
                #expect(Set(found.filter { $0.name != "stdlib" }.map { "\($0.name) \($0.version)" }) == expected.modules, "\(binary)")
                #expect(found.first { $0.name == "stdlib" }?.version == String(expected.go.dropFirst(2)), "\(binary): stdlib at the toolchain's version")
                #expect(found.contains { $0.purl == "pkg:golang/example.org/greeting@v1.2.3" })
            }
            #expect(result.problems.isEmpty)
        }
    }

    @Test func otherExecutablesAreNotGoBinaries() throws {
        try SBOMTestSupport.withScratch("sbom-notgo") { directory in
            try FileManager.default.createDirectory(atPath: directory + "/bin", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: directory + "/bin/busybox")
            try SBOMTestSupport.write(directory + "/bin/script", "#!/bin/sh\n" + String(repeating: "echo padding\n", count: 500))
            _ = try SBOMTestSupport.sh("chmod +x \(SBOMTestSupport.quote(directory + "/bin/script"))")
            let result = CatalogRun(catalogers: [GoBinaryCataloger()]).run(DirectoryImageFiles(root: directory))
            #expect(result.packages.isEmpty)
        }
    }
}
