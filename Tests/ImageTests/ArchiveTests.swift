import Foundation
import Testing

/// A podman with private storage, for moving images between podman and Caisson.
struct PrivatePodman {
    let directory: String
    static let available = FileManager.default.isExecutableFile(atPath: "/usr/bin/podman")

    init() throws { directory = try Scratch.directory("podman") }

    @discardableResult
    func run(_ arguments: [String]) throws -> Shell.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["CONTAINERS_CONF"] = "/dev/null"
        environment["CONTAINERS_REGISTRIES_CONF"] = "/dev/null"
        return try Shell.run("/usr/bin/podman", ["--root", directory + "/storage", "--runroot", directory + "/run",
                                                 "--storage-driver", "vfs"] + arguments,
                             timeout: 120, environment: environment)
    }

    func cleanUp() {
        _ = try? run(["system", "reset", "--force"])
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// save, load and import, and their interoperability with podman and skopeo.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ArchiveTests {
    @Test("caisson save output loads in podman; podman pushes it and caisson pulls and runs it", .enabled(if: PrivatePodman.available))
    func saveLoadsInPodman() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        _ = try RegistryTests.pushLayeredImage(to: registry, repository: "tests/saved")
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let name = "\(registry.host)/tests/saved:v1"
        #expect(try cli.run(["pull", "-q", name]).status == 0)
        let archive = try Scratch.directory("archive") + "/saved.tar"
        let saved = try cli.run(["save", "-o", archive, name])
        #expect(saved.status == 0, "\(saved.stderr)")

        let podman = try PrivatePodman()
        defer { podman.cleanUp() }
        let loaded = try podman.run(["load", "-i", archive])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        let listed = try podman.run(["images", "--format", "{{.Repository}}:{{.Tag}}"])
        #expect(listed.stdout.contains(name), "\(listed.stdout)")

        // podman pushes it under a new name; a fresh caisson pulls and runs it.
        let pushed = try podman.run(["push", "--tls-verify=false", name, "\(registry.host)/tests/from-podman:1"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let other = try CaissonCLI()
        defer { other.cleanUp() }
        let pulled = try other.run(["pull", "\(registry.host)/tests/from-podman:1"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let ran = try ImageRunner(cli: other).run("\(registry.host)/tests/from-podman:1", ["/bin/sh", "-c", "cat /hello.txt; ls /data"])
        #expect(ran.stdout == "v2\nkeep.txt\n", "\(ran.stderr)")
    }

    @Test("podman save output (docker-archive and oci-archive) loads in caisson and runs", .enabled(if: PrivatePodman.available))
    func podmanSaveLoadsInCaisson() throws {
        let podman = try PrivatePodman()
        defer { podman.cleanUp() }
        let tarball = try Scratch.directory("rootfs") + "/rootfs.tar"
        try BusyboxLayer.tarball(at: tarball)
        let imported = try podman.run(["import", "--change", "CMD [\"/bin/echo\", \"from podman\"]", tarball, "localhost/podman-made:1"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let directory = try Scratch.directory("archives")
        for format in ["docker-archive", "oci-archive"] {
            let archive = "\(directory)/\(format).tar"
            let saved = try podman.run(["save", "--format", format, "-o", archive, "localhost/podman-made:1"])
            #expect(saved.status == 0, "\(saved.stderr)")
            let cli = try CaissonCLI()
            defer { cli.cleanUp() }
            let loaded = try cli.run(["load", "-i", archive])
            #expect(loaded.status == 0, "\(format): \(loaded.stderr)")
            #expect(loaded.stdout.contains("Loaded image"), "\(format): \(loaded.stdout)")
            let image = format == "docker-archive" ? "localhost/podman-made:1" : try #require(ArchiveTests.loadedName(loaded.stdout))
            let ran = try ImageRunner(cli: cli).run(image)
            #expect(ran.stdout == "from podman\n", "\(format): \(ran.stderr)")
        }
    }

    static func loadedName(_ output: String) -> String? {
        for line in output.split(separator: "\n") {
            if line.hasPrefix("Loaded image: ") { return String(line.dropFirst("Loaded image: ".count)) }
            if line.hasPrefix("Loaded image ID: ") { return String(line.dropFirst("Loaded image ID: ".count)) }
        }
        return nil
    }

    @Test("an OCI archive round-trips through save and load with the same id, and skopeo reads it")
    func ociArchiveRoundTrip() throws {
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let tarball = try Scratch.directory("rootfs") + "/rootfs.tar.gz"
        try BusyboxLayer.tarball(at: tarball.replacingOccurrences(of: ".gz", with: ""))
        _ = try Shell.run("/bin/gzip", ["-f", tarball.replacingOccurrences(of: ".gz", with: "")])
        let imported = try cli.run(["import", "-c", "ENV GREETING=hi", "-c", "CMD /bin/echo $GREETING", tarball, "example.com/app:1"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let id = imported.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let archive = try Scratch.directory("oci") + "/app.tar"
        #expect(try cli.run(["save", "--format", "oci-archive", "-o", archive, "example.com/app:1"]).status == 0)
        let skopeo = try Shell.run("/usr/bin/skopeo", ["inspect", "oci-archive:\(archive)"])
        #expect(skopeo.status == 0, "\(skopeo.stderr)")

        let other = try CaissonCLI()
        defer { other.cleanUp() }
        let loaded = try other.run(["load", "-i", archive])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        #expect(loaded.stdout == "Loaded image: example.com/app:1\n")
        let inspected = try other.run(["inspect", "--format", "{{.Id}}", "example.com/app:1"])
        #expect(inspected.stdout == id + "\n")
        let ran = try ImageRunner(cli: other).run("example.com/app:1")
        #expect(ran.stdout == "hi\n", "\(ran.stderr)")
    }

    @Test("bad archives and tarballs are refused with a clear error and leave no image")
    func badArchives() throws {
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let directory = try Scratch.directory("bad")
        try "this is not a tar archive, not at all, not even close".padding(toLength: 1024, withPad: "x", startingAt: 0)
            .write(toFile: directory + "/junk.tar", atomically: true, encoding: .utf8)
        let junk = try cli.run(["load", "-i", directory + "/junk.tar"])
        #expect(junk.status == 1)
        #expect(junk.stderr.contains("malformed tar archive"), "\(junk.stderr)")
        let importJunk = try cli.run(["import", directory + "/junk.tar", "x:1"])
        #expect(importJunk.status == 1)
        #expect(importJunk.stderr.contains("malformed tar archive"), "\(importJunk.stderr)")
        let missing = try cli.run(["load", "-i", directory + "/nope.tar"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.tar"))
        let badName = try cli.run(["import", directory + "/junk.tar", "x/UPPER"])
        #expect(badName.status == 125)
        #expect(badName.stderr.contains("invalid reference format"))
        #expect(try cli.run(["images", "-q"]).stdout.isEmpty)
        let unknown = try cli.run(["rmi", "nothing:here"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("No such image: nothing:here"))
    }
}
