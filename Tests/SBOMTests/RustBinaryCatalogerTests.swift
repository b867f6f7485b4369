import CaissonTestSupport
import Foundation
import Testing
@testable import SBOM

/// Rust executables built here by cargo (offline, crates.io dependencies from a vendored
/// directory source), with the dependency list `cargo auditable` embeds written into their
/// `.dep-v0` section from `cargo metadata` as it does (Tests/Fixtures/sbom/
/// embed-cargo-audit-data), read without running them and compared with what `cargo tree`
/// says is linked in.
@Suite struct RustBinaryCatalogerTests {
    static let crates: [(name: String, version: String, source: String)] = [
        ("itoa", "1.0.9", "pub struct Buffer;\nimpl Buffer {\n    pub fn new() -> Self { Buffer }\n    pub fn format(&mut self, n: u32) -> String { n.to_string() }\n}\n"),
        ("smallthing", "0.4.2", "pub fn value() -> u32 { 42 }\n"),
        ("buildonly", "0.2.0", "pub fn touch() {}\n"),
    ]

    /// Builds `scanapp` (crates.io's itoa, a path crate that needs crates.io's smallthing,
    /// and buildonly for its build script only); returns the project directory.
    static func buildApp(_ directory: String) throws -> String {
        try SBOMTestSupport.require("cargo", debianPackage: "cargo")
        try SBOMTestSupport.require("objcopy", debianPackage: "binutils")
        let project = directory + "/app"
        try SBOMTestSupport.write(project + "/Cargo.toml", """
            [package]
            name = "scanapp"
            version = "0.3.1"
            edition = "2018"

            [dependencies]
            itoa = "1.0.9"
            helper = { path = "helper" }

            [build-dependencies]
            buildonly = "0.2.0"

            """)
        try SBOMTestSupport.write(project + "/build.rs", "fn main() { buildonly::touch(); }\n")
        try SBOMTestSupport.write(project + "/src/main.rs",
                                  "fn main() { let mut b = itoa::Buffer::new(); println!(\"{}\", b.format(helper::number())); }\n")
        try SBOMTestSupport.write(project + "/helper/Cargo.toml",
                                  "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n[dependencies]\nsmallthing = \"0.4.2\"\n")
        try SBOMTestSupport.write(project + "/helper/src/lib.rs", "pub fn number() -> u32 { smallthing::value() }\n")
        for crate in crates {
            try SBOMTestSupport.write(project + "/vendor/\(crate.name)/Cargo.toml",
                                      "[package]\nname = \"\(crate.name)\"\nversion = \"\(crate.version)\"\nedition = \"2018\"\n")
            try SBOMTestSupport.write(project + "/vendor/\(crate.name)/src/lib.rs", crate.source)
            try SBOMTestSupport.write(project + "/vendor/\(crate.name)/.cargo-checksum.json", "{\"files\":{},\"package\":null}\n")
        }
        // crates.io replaced by the vendored directory: cargo still records them as crates.io's.
        try SBOMTestSupport.write(project + "/.cargo/config.toml",
                                  "[source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"vendor\"\n")
        try SBOMTestSupport.sh(cargo(project, "build --offline --quiet"))
        try SBOMTestSupport.sh(cargo(project, "metadata --format-version 1 --offline") + " > ../metadata.json")
        return project
    }

    static func cargo(_ project: String, _ arguments: String) -> String {
        "cd \(SBOMTestSupport.quote(project)) && CARGO_HOME=\(SBOMTestSupport.quote(project + "/../cargo-home")) cargo \(arguments)"
    }

    /// `cargo tree -e normal`'s crates as "name version": what is linked into the program.
    static func reference(_ project: String) throws -> Set<String> {
        let text = try SBOMTestSupport.sh(cargo(project, "tree -e normal --prefix none --offline"))
        return Set(text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count >= 2, fields[1].hasPrefix("v") else { return nil }
            return "\(fields[0]) \(fields[1].dropFirst())"
        })
    }

    @Test func cratesAreWhatCargoTreeSaysIsLinkedIn() throws {
        try SBOMTestSupport.withScratch("rust") { directory in
            let project = try Self.buildApp(directory)
            let bin = directory + "/root/usr/local/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: project + "/target/debug/scanapp", toPath: bin + "/scanapp")
            try FileManager.default.copyItem(atPath: project + "/target/debug/scanapp", toPath: bin + "/plain")
            try SBOMTestSupport.sh("\(SBOMTestSupport.quote(SBOMTestSupport.fixtures + "/embed-cargo-audit-data")) \(SBOMTestSupport.quote(directory + "/metadata.json")) \(SBOMTestSupport.quote(bin + "/scanapp"))")
            #expect(try SBOMTestSupport.sh(SBOMTestSupport.quote(bin + "/scanapp")) == "42\n", "the section leaves the program as it was")

            let result = CatalogRun(catalogers: [RustBinaryCataloger()]).run(DirectoryImageFiles(root: directory + "/root"))
            let found = result.packages.filter { $0.locations == ["/usr/local/bin/scanapp"] }
            let expected = try Self.reference(project)
            #expect(expected == ["scanapp 0.3.1", "helper 0.1.0", "itoa 1.0.9", "smallthing 0.4.2"])
            #expect(Set(found.map { "\($0.name) \($0.version)" }) == expected)
            #expect(found.count == expected.count)
            #expect(!found.contains { $0.name == "buildonly" }, "a build dependency is not in the binary")
            #expect(found.allSatisfy { $0.ecosystem == .cratesIO })
            #expect(found.contains { $0.purl == "pkg:cargo/itoa@1.0.9" })
            #expect(result.packages.count == found.count, "a binary built without cargo auditable lists nothing")
            #expect(result.problems.isEmpty, "\(result.problems)")
        }
    }

    @Test func aBrokenSectionIsAProblemNamingTheBinary() throws {
        try SBOMTestSupport.require("objcopy", debianPackage: "binutils")
        try SBOMTestSupport.withScratch("rust-broken") { directory in
            try FileManager.default.createDirectory(atPath: directory + "/root/bin", withIntermediateDirectories: true)
            let cases: [(name: String, section: String, reason: String)] = [
                ("garbage", "printf 'not zlib at all'", "not a valid zlib stream"),
                ("cut", "python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.compress(b\"{\\\"packages\\\":[]}\")[:-6])'", "cut short"),
                ("notjson", "python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.compress(b\"[1,2]\"))'", "cargo-auditable's JSON"),
                ("badindex", "python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.compress(b\"{\\\"packages\\\":[{\\\"name\\\":\\\"a\\\",\\\"version\\\":\\\"1.0.0\\\",\\\"source\\\":\\\"local\\\",\\\"dependencies\\\":[7]}]}\"))'", "index 7"),
            ]
            for entry in cases {
                let binary = directory + "/root/bin/" + entry.name
                try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: binary)
                try SBOMTestSupport.sh("\(entry.section) > \(SBOMTestSupport.quote(directory + "/section")) && objcopy --add-section .dep-v0=\(SBOMTestSupport.quote(directory + "/section")) \(SBOMTestSupport.quote(binary))")
            }
            let result = CatalogRun(catalogers: [RustBinaryCataloger()]).run(DirectoryImageFiles(root: directory + "/root"))
            #expect(result.packages.isEmpty)
            for entry in cases {
                let problem = result.problems.first { $0.path == "/bin/" + entry.name }
                #expect(problem?.cataloger == "rust-binary")
                #expect(problem?.reason.contains(entry.reason) == true, "\(entry.name): \(String(describing: problem))")
            }
        }
    }
}
