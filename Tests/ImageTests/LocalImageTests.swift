import Foundation
import Testing

/// images, tag, rmi, inspect and prune on a local store.
@Suite(.timeLimit(.minutes(2)))
struct LocalImageTests {
    static func importBusybox(_ cli: CaissonCLI, as name: String, change: [String] = []) throws -> String {
        let tarball = try Scratch.directory("rootfs") + "/rootfs.tar"
        try BusyboxLayer.tarball(at: tarball)
        let result = try cli.run(["import"] + change.flatMap { ["-c", $0] } + [tarball, name])
        guard result.status == 0 else { throw FixtureFailure(what: "import", output: result.stderr) }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("images lists docker's columns, --format and -q; inspect shows the config")
    func listing() throws {
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let id = try LocalImageTests.importBusybox(cli, as: "docker.io/library/tool:1.0",
                                                    change: ["ENV MODE=test", "WORKDIR /srv", "USER user", "LABEL team=caisson"])
        let table = try cli.run(["images"])
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"])
        #expect(lines.count == 2)
        #expect(lines[1].hasPrefix("tool "))
        #expect(lines[1].contains(" 1.0 ") && lines[1].contains(String(id.dropFirst(7).prefix(12))))
        #expect(lines[1].hasSuffix("MB"))
        #expect(try cli.run(["images", "-q"]).stdout == String(id.dropFirst(7).prefix(12)) + "\n")
        #expect(try cli.run(["images", "--no-trunc", "-q"]).stdout == id + "\n")
        let formatted = try cli.run(["images", "--format", "{{.Repository}}:{{.Tag}}\\t{{.ID}}"])
        #expect(formatted.stdout == "tool:1.0\t\(id.dropFirst(7).prefix(12))\n")
        let json = try cli.run(["images", "--format", "{{json .}}"])
        #expect(json.stdout.contains("\"Repository\":\"tool\""))
        let bad = try cli.run(["images", "--format", "{{.Nope}}"])
        #expect(bad.status == 125)
        #expect(bad.stderr.contains("can't evaluate field Nope"))

        let inspected = try cli.run(["inspect", "tool:1.0"])
        #expect(inspected.status == 0)
        let documents = try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [[String: Any]]
        let document = try #require(documents?.first)
        #expect(document["Id"] as? String == id)
        #expect(document["RepoTags"] as? [String] == ["tool:1.0"])
        let config = try #require(document["Config"] as? [String: Any])
        #expect(config["WorkingDir"] as? String == "/srv")
        #expect(config["User"] as? String == "user")
        #expect((config["Env"] as? [String])?.contains("MODE=test") == true)
        #expect((config["Labels"] as? [String: String])?["team"] == "caisson")
        #expect(try cli.run(["inspect", "--format", "{{.Os}}/{{.Architecture}}", id]).stdout.hasPrefix("linux/"))
        let missing = try cli.run(["inspect", "nothing"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("No such object: nothing"))
    }

    @Test("the image's user and groups are resolved through its own /etc/passwd and /etc/group")
    func userResolution() throws {
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        _ = try LocalImageTests.importBusybox(cli, as: "example.com/users:1", change: ["USER user", "WORKDIR /tmp"])
        let ran = try ImageRunner(cli: cli).run("example.com/users:1", ["/bin/sh", "-c", "id; pwd; echo $HOME"])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stdout == "uid=1000(user) gid=1000(user) groups=100(users),1000(user),2000(extra)\n/tmp\n/home/user\n")
        let explicit = try ImageRunner(cli: cli).run("example.com/users:1", ["/bin/id", "-u"], user: "0:users")
        #expect(explicit.stdout == "0\n")
        #expect(throws: (any Error).self) { try ImageRunner(cli: cli).run("example.com/users:1", ["/bin/id"], user: "nosuchuser") }
    }

    @Test("tag, rmi of one name, rmi by id, prune: unreferenced blobs and layers are collected")
    func removeAndPrune() throws {
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let id = try LocalImageTests.importBusybox(cli, as: "example.com/a:1")
        #expect(try cli.run(["tag", "example.com/a:1", "example.com/b:2"]).status == 0)
        let conflict = try cli.run(["rmi", String(id.dropFirst(7).prefix(12))])
        #expect(conflict.status == 1)
        #expect(conflict.stderr.contains("must be forced"))
        let untagged = try cli.run(["rmi", "example.com/b:2"])
        #expect(untagged.stdout == "Untagged: example.com/b:2\n")
        #expect(try cli.run(["images", "-q"]).stdout.isEmpty == false)
        let blobs = cli.root + "/store/content/blobs/sha256"
        let layers = cli.root + "/store/snapshots/layers"
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs).count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: layers).count == 1)
        let layer = try cli.run(["image", "inspect", "-f", "{{index .RootFS.Layers 0}}", "example.com/a:1"]).stdout
        let removed = try cli.run(["rmi", "example.com/a:1"])
        // The image, then (as dockerd) its layer, by chain id: one layer, its diff id.
        #expect(removed.stdout == "Untagged: example.com/a:1\nDeleted: \(id)\nDeleted: \(layer)", "\(removed.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: layers).isEmpty)

        _ = try LocalImageTests.importBusybox(cli, as: "example.com/c:1")
        let untouched = try cli.run(["image", "prune", "-f"])
        #expect(untouched.stdout == "Total reclaimed space: 0B\n")
        let pruned = try cli.run(["image", "prune", "-a", "-f"])
        #expect(pruned.stdout.contains("deleted: sha256:"))
        #expect(try cli.run(["images", "-q"]).stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs).isEmpty)
    }
}
