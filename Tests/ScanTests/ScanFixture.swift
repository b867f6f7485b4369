@_exported import CaissonTestSupport
import Foundation

/// A private Caisson root holding images made from real package data: a Debian root
/// filesystem from this machine's apt sources (`Tests/Fixtures/scan/make-debian-rootfs`,
/// the .deb files fetched once into a cache), imported as a base image, and an image
/// built on it that adds Python packages installed with `pip install --target` from
/// PyPI and then deletes one of them in a later layer.
final class ScanFixture: @unchecked Sendable {
    let root: String
    let runRoot: String
    static let base = "localhost/scan-debian:base"
    static let app = "localhost/scan-debian:app"
    static let debianPackages = ["base-files", "libc6", "libmd0", "dpkg", "dash", "zlib1g", "libexpat1",
                                 "python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib"]
    /// Pure-Python wheels: `six` stays in the image, `idna` is deleted by a later layer.
    static let pythonPackages = ["six==1.16.0", "idna==3.4"]
    static let packageCache = "/var/tmp/caisson-test-packages"

    static let binary: String = BuiltBinaries.directory + "/caisson"

    static func source(_ path: String) -> String {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory.appendingPathComponent(path).path
            }
            directory.deleteLastPathComponent()
        }
        return path
    }

    init() throws {
        root = try Scratch.directory("scan")
        runRoot = try Scratch.directory("scan-run")
        let rootfs = try Scratch.directory("scan-rootfs")
        let made = try Shell.run(ScanFixture.source("Tests/Fixtures/scan/make-debian-rootfs"),
                                 [rootfs, ScanFixture.packageCache + "/debs"] + ScanFixture.debianPackages, timeout: 300)
        guard made.status == 0 else { throw ScanFixtureError(what: "make-debian-rootfs", output: made.stderr + made.stdout) }
        let tarball = rootfs + ".tar"
        let tar = try Shell.run("/bin/tar", ["-C", rootfs, "-cf", tarball, "."])
        guard tar.status == 0 else { throw ScanFixtureError(what: "tar", output: tar.stderr) }
        let imported = try caisson(["import", "-c", "CMD [\"/bin/sh\"]", tarball, ScanFixture.base])
        guard imported.status == 0 else { throw ScanFixtureError(what: "import", output: imported.stderr) }
        try? FileManager.default.removeItem(atPath: rootfs)
        try? FileManager.default.removeItem(atPath: tarball)

        // The app image: Python packages from PyPI in one layer, one of them deleted in the next.
        let context = try Scratch.directory("scan-context")
        let wheels = ScanFixture.packageCache + "/wheels"
        let download = try Shell.run("/usr/bin/env", ["python3", "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                                                      "-d", wheels] + ScanFixture.pythonPackages, timeout: 300)
        guard download.status == 0 else { throw ScanFixtureError(what: "pip download", output: download.stderr) }
        let install = try Shell.run("/usr/bin/env", ["python3", "-m", "pip", "install", "-q", "--no-index", "--find-links", wheels,
                                                     "--no-deps", "--target", context + "/site"] + ScanFixture.pythonPackages, timeout: 300)
        guard install.status == 0 else { throw ScanFixtureError(what: "pip install --target", output: install.stderr) }
        // A Go program built by Debian's Go with a vendored module of a known version.
        let go = context + "/go"
        try FileManager.default.createDirectory(atPath: go + "/vendor/example.org/greeting", withIntermediateDirectories: true)
        try "module example.com/scanapp\n\ngo 1.19\n\nrequire example.org/greeting v1.2.3\n".write(toFile: go + "/go.mod", atomically: true, encoding: .utf8)
        try "package main\n\nimport \"example.org/greeting\"\n\nfunc main() { println(greeting.Hello()) }\n".write(toFile: go + "/main.go", atomically: true, encoding: .utf8)
        try "package greeting\n\nfunc Hello() string { return \"hello\" }\n".write(toFile: go + "/vendor/example.org/greeting/greeting.go", atomically: true, encoding: .utf8)
        try "# example.org/greeting v1.2.3\n## explicit\nexample.org/greeting\n".write(toFile: go + "/vendor/modules.txt", atomically: true, encoding: .utf8)
        let goBuild = try Shell.run("/bin/sh", ["-c", "cd \(Shell.quote(go)) && GOFLAGS=-mod=vendor GOPROXY=off GOCACHE=\(Shell.quote(go))/.cache CGO_ENABLED=0 HOME=\(Shell.quote(go)) go build -o ../app ."], timeout: 300)
        guard goBuild.status == 0 else { throw ScanFixtureError(what: "go build (golang-go installed?)", output: goBuild.stderr) }
        try FileManager.default.removeItem(atPath: go)
        try Self.buildRustApp(context + "/rust", output: context + "/rustapp")
        try """
            FROM \(ScanFixture.base)
            COPY app /usr/local/bin/app
            COPY rustapp /usr/local/bin/rustapp
            COPY site /usr/lib/python3/dist-packages
            RUN ["/usr/bin/python3.11", "-c", "import glob, shutil; [shutil.rmtree(p) for p in glob.glob('/usr/lib/python3/dist-packages/idna*')]"]
            """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let built = try caisson(["build", "--network", "none", "-t", ScanFixture.app, context], timeout: 300)
        guard built.status == 0 else { throw ScanFixtureError(what: "build", output: built.stderr + built.stdout) }
        try? FileManager.default.removeItem(atPath: context)
    }

    /// A Rust program built by cargo with crates.io's itoa 1.0.9 (from a vendored directory,
    /// offline), carrying the dependency list cargo auditable embeds (written from `cargo
    /// metadata` by Tests/Fixtures/sbom/embed-cargo-audit-data).
    static func buildRustApp(_ project: String, output: String) throws {
        let files = [
            "Cargo.toml": "[package]\nname = \"rustapp\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n[dependencies]\nitoa = \"1.0.9\"\n",
            "src/main.rs": "fn main() { println!(\"{}\", itoa::answer()); }\n",
            "vendor/itoa/Cargo.toml": "[package]\nname = \"itoa\"\nversion = \"1.0.9\"\nedition = \"2018\"\n",
            "vendor/itoa/src/lib.rs": "pub fn answer() -> u32 { 42 }\n",
            "vendor/itoa/.cargo-checksum.json": "{\"files\":{},\"package\":null}\n",
            ".cargo/config.toml": "[source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"vendor\"\n",
        ]
        for (path, text) in files {
            try FileManager.default.createDirectory(atPath: ((project + "/" + path) as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: project + "/" + path, atomically: true, encoding: .utf8)
        }
        let embed = source("Tests/Fixtures/sbom/embed-cargo-audit-data")
        let script = """
            cd \(Shell.quote(project)) && export CARGO_HOME=\(Shell.quote(project + "/.home")) && \
            cargo build --offline --quiet && cargo metadata --format-version 1 --offline > metadata.json && \
            cp target/debug/rustapp \(Shell.quote(output)) && \(Shell.quote(embed)) metadata.json \(Shell.quote(output))
            """
        let built = try Shell.run("/bin/sh", ["-ec", script], timeout: 300)
        guard built.status == 0 else { throw ScanFixtureError(what: "cargo build (cargo and binutils installed?)", output: built.stderr) }
        try FileManager.default.removeItem(atPath: project)
    }

    /// `caisson COMMAND [SUBCOMMAND...] --root R --runroot RR ARGS...`
    @discardableResult
    func caisson(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 120,
                 environment: [String: String]? = nil) throws -> Shell.Result {
        var split = 1
        if arguments.first == "scan", arguments.count > 1, arguments[1] == "db" { split = 3 }
        if arguments.first == "system", arguments.count > 1 { split = 2 }
        let global = ["--root", root, "--runroot", runRoot]
        return try Shell.run(ScanFixture.binary, Array(arguments[..<min(split, arguments.count)]) + global + Array(arguments[min(split, arguments.count)...]),
                             stdin: stdin, timeout: timeout, environment: environment)
    }

    func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// Removes the root; returns what is left on the machine of it (should be empty).
    func tearDown() throws -> [String] {
        var leftovers: [String] = []
        let reset = try caisson(["system", "reset", "--force"])
        if reset.status != 0 { leftovers.append("system reset failed: \(reset.stderr)") }
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") where line.contains(root) || line.contains(runRoot) {
            leftovers.append("mount: \(line)")
        }
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: runRoot)
        return leftovers
    }
}

struct ScanFixtureError: Error, CustomStringConvertible {
    let what: String
    let output: String
    var description: String { "\(what) failed: \(output)" }
}
