import Foundation
import ImageSpec
import Images
import Testing

/// Pulls and pushes against Debian's docker-registry, and interoperability with skopeo
/// and podman both ways.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RegistryTests {
    /// A two-layer image whose second layer deletes a file, replaces a directory (opaque)
    /// and adds files; pushed by skopeo.
    static func pushLayeredImage(to registry: TestRegistry, repository: String, tag: String = "v1") throws -> OCILayoutBuilder {
        var layout = try OCILayoutBuilder(directory: try Scratch.directory("layout"))
        let base = try layout.layer(try BusyboxLayer.items() + [
            .directory("data"), .file("data/keep.txt", "keep\n"), .file("data/remove.txt", "remove me\n"),
            .directory("replaced"), .file("replaced/old.txt", "old\n"), .file("hello.txt", "v1\n"),
        ])
        let top = try layout.layer([
            .whiteout("data/remove.txt"), .directory("replaced"), .opaque("replaced"), .file("replaced/new.txt", "new\n"),
            .file("hello.txt", "v2\n"), .hardlink("hello-link.txt", to: "hello.txt"),
        ])
        try layout.image([base, top], cmd: ["/bin/sh", "-c", "cat /hello.txt"], tag: tag)
        try layout.push(tag: tag, to: "\(registry.host)/\(repository):\(tag)")
        return layout
    }

    @Test("a multi-layer image pushed by skopeo is pulled and run, with whiteouts and opaque directories applied")
    func pullAndRunLayeredImage() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        _ = try RegistryTests.pushLayeredImage(to: registry, repository: "tests/layered")
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let pulled = try cli.run(["pull", "\(registry.host)/tests/layered:v1"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.stdout.contains("Pull complete"))
        #expect(pulled.stdout.contains("Status: Downloaded newer image for \(registry.host)/tests/layered:v1"))

        let runner = ImageRunner(cli: cli)
        let shown = try runner.run("\(registry.host)/tests/layered:v1")
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout == "v2\n")
        let listing = try runner.run("\(registry.host)/tests/layered:v1",
                                     ["/bin/sh", "-c", "ls /data; echo --; ls /replaced; echo --; cat /hello-link.txt"])
        #expect(listing.status == 0, "\(listing.stderr)")
        #expect(listing.stdout == "keep.txt\n--\nnew.txt\n--\nv2\n")

        // The same through the plain-copy driver.
        let copied = try runner.run("\(registry.host)/tests/layered:v1", ["/bin/sh", "-c", "ls /data /replaced"], driver: .vfs)
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(copied.stdout == "/data:\nkeep.txt\n\n/replaced:\nnew.txt\n")

        // A second pull finds everything in place.
        let again = try cli.run(["pull", "\(registry.host)/tests/layered:v1"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("Already exists"))
        #expect(again.stdout.contains("Status: Image is up to date"))
    }

    @Test("an image pushed by caisson is read by skopeo with the same digest, and pushing again skips every blob")
    func pushIsReadBySkopeo() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let tarball = try Scratch.directory("rootfs") + "/rootfs.tar"
        try BusyboxLayer.tarball(at: tarball)
        let name = "\(registry.host)/tests/imported:1"
        let imported = try cli.run(["import", "-c", "CMD [\"/bin/echo\", \"imported\"]", tarball, name])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("sha256:"))

        let pushed = try cli.run(["push", name])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.contains("Pushed"))
        let digestLine = pushed.stdout.split(separator: "\n").first { $0.contains("digest: sha256:") } ?? ""
        let pushedDigest = digestLine.split(separator: " ").first { $0.hasPrefix("sha256:") }.map(String.init) ?? "none"

        let inspected = try Shell.run("/usr/bin/skopeo", ["inspect", "--tls-verify=false", "docker://\(name)"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("\"Digest\": \"\(pushedDigest)\""))

        let images = try cli.run(["images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"])
        #expect(images.stdout.contains("\(registry.host)/tests/imported 1 \(pushedDigest)"))

        let second = try cli.run(["push", name])
        #expect(second.status == 0)
        #expect(second.stdout.contains("Layer already exists"))
        #expect(!second.stdout.contains("Pushed"))

        // Pushed under another repository of the same registry: blobs are mounted.
        let tagged = try cli.run(["tag", name, "\(registry.host)/tests/copy:1"])
        #expect(tagged.status == 0, "\(tagged.stderr)")
        let mounted = try cli.run(["push", "\(registry.host)/tests/copy:1"])
        #expect(mounted.status == 0, "\(mounted.stderr)")
        #expect(mounted.stdout.contains("Mounted from tests/imported"))

        // And it runs after a pull into an empty store.
        let other = try CaissonCLI()
        defer { other.cleanUp() }
        #expect(try other.run(["pull", "-q", name]).status == 0)
        let ran = try ImageRunner(cli: other).run(name)
        #expect(ran.stdout == "imported\n", "\(ran.stderr)")
    }

    @Test("a multi-platform index: the machine's platform by default, --platform to choose, a clear error for a missing one")
    func multiPlatformIndex() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        var layout = try OCILayoutBuilder(directory: try Scratch.directory("layout"))
        let base = try layout.layer(try BusyboxLayer.items())
        let amd = try layout.layer([.file("arch.txt", "amd64\n")])
        let arm = try layout.layer([.file("arch.txt", "arm64\n")])
        try layout.image([base, amd], platform: Platform(os: "linux", architecture: "amd64"), cmd: ["/bin/cat", "/arch.txt"])
        try layout.image([base, arm], platform: Platform(os: "linux", architecture: "arm64", variant: "v8"), cmd: ["/bin/cat", "/arch.txt"])
        try layout.multiPlatformIndex(tag: "multi")
        try layout.push(tag: "multi", to: "\(registry.host)/tests/multi:1", all: true)

        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let name = "\(registry.host)/tests/multi:1"
        #expect(try cli.run(["pull", "-q", name]).status == 0)
        let native = try cli.run(["inspect", "--format", "{{.Architecture}}", name])
        #expect(native.stdout == Platform.current.architecture + "\n", "\(native.stderr)")

        let arm64 = try cli.run(["pull", "-q", "--platform", "linux/arm64", name])
        #expect(arm64.status == 0, "\(arm64.stderr)")
        let chosen = try cli.run(["inspect", "--format", "{{.Architecture}}", name])
        #expect(chosen.stdout == "arm64\n")

        let missing = try cli.run(["pull", "--platform", "linux/s390x", name])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("has no image for linux/s390x"))
        #expect(missing.stderr.contains("linux/amd64"))
    }

    @Test("registries.conf: an unqualified name is searched, a mirror serves docker.io, a blocked registry is refused")
    func registriesConfiguration() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        _ = try RegistryTests.pushLayeredImage(to: registry, repository: "library/layered", tag: "latest")
        let cli = try CaissonCLI(registriesConf: """
            unqualified-search-registries = ["docker.io"]

            [[registry]]
            prefix = "docker.io"
            location = "docker.invalid"
            [[registry.mirror]]
            location = "\(registry.host)"

            [[registry]]
            location = "blocked.example.com"
            blocked = true
            """)
        defer { cli.cleanUp() }
        let pulled = try cli.run(["pull", "layered"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.stdout.contains("docker.io/library/layered:latest"))
        let images = try cli.run(["images", "--format", "{{.Repository}}:{{.Tag}}"])
        #expect(images.stdout == "layered:latest\n")
        let ran = try ImageRunner(cli: cli).run("layered")
        #expect(ran.stdout == "v2\n", "\(ran.stderr)")

        let blocked = try cli.run(["pull", "blocked.example.com/x:1"])
        #expect(blocked.status == 1)
        #expect(blocked.stderr.contains("blocked.example.com is blocked"))
    }

    @Test("basic auth: a pull without credentials is refused, login stores them, logout removes them")
    func basicAuthentication() throws {
        let registry = try TestRegistry(basicAuth: true)
        defer { registry.stop() }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let tarball = try Scratch.directory("rootfs") + "/rootfs.tar"
        try BusyboxLayer.tarball(at: tarball)
        let name = "\(registry.host)/private/app:1"
        #expect(try cli.run(["import", tarball, name]).status == 0)
        let refused = try cli.run(["push", name])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("unauthorized"), "\(refused.stderr)")

        let wrong = try cli.run(["login", "-u", TestRegistry.user, "--password-stdin", registry.host], stdin: "nope\n")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("login to \(registry.host) failed"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.authFile))
        let login = try cli.run(["login", "-u", TestRegistry.user, "--password-stdin", registry.host], stdin: TestRegistry.password + "\n")
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout == "Login Succeeded\n")
        let auth = try String(contentsOfFile: cli.authFile, encoding: .utf8)
        #expect(auth.contains(registry.host))

        #expect(try cli.run(["push", name]).status == 0)
        // skopeo reads the same credentials file.
        let inspected = try Shell.run("/usr/bin/skopeo", ["inspect", "--tls-verify=false", "--authfile", cli.authFile, "docker://\(name)"])
        #expect(inspected.status == 0, "\(inspected.stderr)")

        #expect(try cli.run(["logout", registry.host]).status == 0)
        let again = try cli.run(["logout", registry.host])
        #expect(again.status == 1)
        #expect(again.stderr.contains("not logged in"))
    }

    @Test("a missing tag and a corrupted blob give clear errors and leave nothing in the store")
    func missingTagAndCorruptBlob() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let layout = try RegistryTests.pushLayeredImage(to: registry, repository: "tests/corrupt")
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }

        let missing = try cli.run(["pull", "\(registry.host)/tests/corrupt:nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("manifest unknown"), "\(missing.stderr)")
        #expect(missing.stderr.contains("/tests/corrupt:nope"), "\(missing.stderr)")
        // A digest is written name@digest, as the user wrote it.
        let absent = "sha256:" + String(repeating: "ab", count: 32)
        let byDigest = try cli.run(["pull", "\(registry.host)/tests/corrupt@\(absent)"])
        #expect(byDigest.status == 1)
        #expect(byDigest.stderr.contains("/tests/corrupt@\(absent)"), "\(byDigest.stderr)")
        #expect(!byDigest.stderr.contains(":\(absent)"), "\(byDigest.stderr)")

        // Flip bytes in the registry's copy of the top layer.
        let index = try ImageIndex.parse(Array(try Data(contentsOf: URL(fileURLWithPath: layout.directory + "/index.json"))))
        let manifestBytes = Array(try Data(contentsOf: URL(fileURLWithPath: layout.directory + "/blobs/sha256/" + index.manifests[0].digest.encoded)))
        let manifest = try Manifest.parse(manifestBytes)
        let victim = manifest.layers[1].digest
        let path = registry.blobDataPath(victim.description)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let corrupt = try cli.run(["pull", "\(registry.host)/tests/corrupt:v1"])
        #expect(corrupt.status == 1)
        #expect(corrupt.stderr.contains("digest mismatch"), "\(corrupt.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.root + "/store/content/blobs/sha256/" + victim.encoded))
        // Nothing of the bad blob is kept (other layers' partial downloads may be, for a resume).
        let ingest = (try? FileManager.default.contentsOfDirectory(atPath: cli.root + "/store/content/ingest")) ?? []
        #expect(!ingest.contains { $0.contains(victim.encoded) })
        let images = try cli.run(["images", "-q"])
        #expect(images.stdout.isEmpty)
    }

    @Test("a layer with a `..` entry fails the pull cleanly; a layer's symlink escape stays inside the snapshot")
    func hostileLayers() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let outside = try Scratch.directory("outside")
        var layout = try OCILayoutBuilder(directory: try Scratch.directory("layout"))
        let base = try layout.layer(try BusyboxLayer.items())
        let climbing = try layout.layer([.file("../../../../../../..\(outside)/pwned.txt", "pwned\n")])
        try layout.image([base, climbing], tag: "climb")
        try layout.push(tag: "climb", to: "\(registry.host)/tests/hostile:climb")
        let linking = try layout.layer([.symlink("etc/evil", to: outside), .file("etc/evil/pwned.txt", "pwned\n")])
        try layout.image([base, linking], cmd: ["/bin/cat", "\(outside)/pwned.txt"], tag: "link")
        try layout.push(tag: "link", to: "\(registry.host)/tests/hostile:link")

        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let climbed = try cli.run(["pull", "\(registry.host)/tests/hostile:climb"])
        #expect(climbed.status == 1)
        #expect(climbed.stderr.contains("refusing tar entry") && climbed.stderr.contains("climbs out"), "\(climbed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: outside + "/pwned.txt"))
        #expect(try cli.run(["images", "-q"]).stdout.isEmpty)
        let staging = (try? FileManager.default.contentsOfDirectory(atPath: cli.root + "/store/snapshots/tmp")) ?? []
        #expect(staging.allSatisfy { $0.hasSuffix(".lock") }, "\(staging)")

        let linked = try cli.run(["pull", "\(registry.host)/tests/hostile:link"])
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(!FileManager.default.fileExists(atPath: outside + "/pwned.txt"))
        let ran = try ImageRunner(cli: cli).run("\(registry.host)/tests/hostile:link")
        #expect(ran.stdout == "pwned\n", "inside the container the file is where the link points: \(ran.stderr)")
    }

    @Test("on a terminal a pull draws progress bars; otherwise it prints docker's status lines")
    func progressDisplay() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        _ = try RegistryTests.pushLayeredImage(to: registry, repository: "tests/progress")
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let command = [CaissonCLI.binary, "pull", "--root", cli.root + "/store", "--registries-conf", cli.registriesConf,
                       "\(registry.host)/tests/progress:v1"].joined(separator: " ")
        let terminal = try Shell.run("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(terminal.status == 0, "\(terminal.stderr)")
        #expect(terminal.stdout.contains("\u{1b}[2K"), "redrawn lines")
        #expect(terminal.stdout.contains("Pull complete"))
        #expect(terminal.stdout.contains("Status: Downloaded newer image"))
    }

    @Test("caisson run pulls a missing image from the registry first, as docker run does")
    func runPullsMissingImage() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        _ = try RegistryTests.pushLayeredImage(to: registry, repository: "tests/autopull")
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let runRoot = try Scratch.directory("run")
        let name = "\(registry.host)/tests/autopull:v1"
        let ran = try Shell.run(CaissonCLI.binary, ["run", "--root", cli.root + "/store", "--runroot", runRoot,
                                                    "--registries-conf", cli.registriesConf, "--rm", "--network", "none", name])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stdout == "v2\n")
        #expect(ran.stderr.contains("Unable to find image '\(name)' locally"))
        let images = try cli.run(["images", "--format", "{{.Repository}}:{{.Tag}}"])
        #expect(images.stdout == "\(registry.host)/tests/autopull:v1\n")
        _ = try Shell.run(CaissonCLI.binary, ["system", "reset", "--force", "--root", cli.root + "/store", "--runroot", runRoot])
        try? FileManager.default.removeItem(atPath: runRoot)
    }
}
