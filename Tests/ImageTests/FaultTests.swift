import Foundation
import ImageSpec
import Testing

/// Registries that misbehave: dropped connections, broken manifests, token auth, and a
/// pull killed with SIGKILL.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct FaultTests {
    /// An image with a busybox layer and a 3 MB layer of incompressible bytes.
    static func makeLayout() throws -> String {
        var layout = try OCILayoutBuilder(directory: try Scratch.directory("scripted"))
        let base = try layout.layer(try BusyboxLayer.items())
        var random = [UInt8](repeating: 0, count: 3 << 20)
        for i in random.indices { random[i] = UInt8(truncatingIfNeeded: (i &* 2654435761) >> 13) }
        let big = try layout.layer([.binary("big.bin", random, mode: 0o644)])
        try layout.image([base, big], cmd: ["/bin/sh", "-c", "wc -c < /big.bin"], tag: "v1")
        return layout.directory
    }

    @Test("a connection dropped mid-blob is resumed with a range request, and the image runs")
    func droppedConnectionResumes() throws {
        var behaviour = ScriptedRegistry.Behaviour()
        behaviour.dropBlobAfter = 1 << 20
        let registry = try ScriptedRegistry(layout: try FaultTests.makeLayout(), behaviour: behaviour)
        defer { registry.stop() }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let pulled = try cli.run(["pull", "\(registry.host)/tests/faulty:v1"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let ranged = registry.requests.filter { $0.headers["range"] != nil }
        // Resumed from what had arrived when the connection dropped (at most the first MiB).
        let offsets = ranged.compactMap { Int($0.headers["range"]?.dropFirst(6).dropLast() ?? "") }
        #expect(offsets.contains { $0 > 0 && $0 <= 1 << 20 }, "\(ranged.map(\.headers))")
        let ran = try ImageRunner(cli: cli).run("\(registry.host)/tests/faulty:v1")
        #expect(ran.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == String(3 << 20), "\(ran.stderr)")
    }

    @Test("blobs redirected to another location are followed")
    func redirectedBlobs() throws {
        var behaviour = ScriptedRegistry.Behaviour()
        behaviour.redirectBlobs = true
        let registry = try ScriptedRegistry(layout: try FaultTests.makeLayout(), behaviour: behaviour)
        defer { registry.stop() }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let pulled = try cli.run(["pull", "-q", "\(registry.host)/tests/redirected:v1"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(registry.requests.filter { $0.path.hasPrefix("/storage/") }.count == 3)
    }

    @Test("a manifest that does not parse is a clear error and stores nothing")
    func brokenManifest() throws {
        var behaviour = ScriptedRegistry.Behaviour()
        behaviour.rawManifests["broken"] = #"{"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "#
        behaviour.rawManifests["wrong"] = #"{"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:1234", "size": 1}, "layers": []}"#
        let registry = try ScriptedRegistry(layout: try FaultTests.makeLayout(), behaviour: behaviour)
        defer { registry.stop() }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let broken = try cli.run(["pull", "\(registry.host)/tests/x:broken"])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("invalid image manifest") && broken.stderr.contains("not valid JSON"), "\(broken.stderr)")
        let wrong = try cli.run(["pull", "\(registry.host)/tests/x:wrong"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("invalid digest \"sha256:1234\""), "\(wrong.stderr)")
        #expect(try cli.run(["images", "-q"]).stdout.isEmpty)
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: cli.root + "/store/content/blobs/sha256")) ?? []
        #expect(blobs.isEmpty)
    }

    @Test("bearer tokens: anonymous access is refused clearly; after login the token service is asked with the credentials")
    func bearerToken() throws {
        var behaviour = ScriptedRegistry.Behaviour()
        behaviour.bearer = ("robot", "s3cret")
        let registry = try ScriptedRegistry(layout: try FaultTests.makeLayout(), behaviour: behaviour)
        defer { registry.stop() }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let anonymous = try cli.run(["pull", "\(registry.host)/tests/private:v1"])
        #expect(anonymous.status == 1)
        #expect(anonymous.stderr.contains("refused anonymous access"), "\(anonymous.stderr)")
        let login = try cli.run(["login", "-u", "robot", "--password-stdin", registry.host], stdin: "s3cret")
        #expect(login.status == 0, "\(login.stderr)")
        let pulled = try cli.run(["pull", "-q", "\(registry.host)/tests/private:v1"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(registry.requests.contains { $0.path.hasPrefix("/token?") && $0.path.contains("scope=repository%3Atests%2Fprivate%3Apull") })
    }

    @Test("a pull killed with SIGKILL leaves a consistent store, and pulling again resumes and completes")
    func killedPullResumes() throws {
        var behaviour = ScriptedRegistry.Behaviour()
        behaviour.trickle = .milliseconds(15)
        let registry = try ScriptedRegistry(layout: try FaultTests.makeLayout(), behaviour: behaviour)
        defer { registry.stop() }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let name = "\(registry.host)/tests/killed:v1"
        let log = try Scratch.directory("killed") + "/pull.log"
        let pull = try BackgroundProcess(CaissonCLI.binary, ["pull", "--root", cli.root + "/store", "--registries-conf", cli.registriesConf, name],
                                         log: log)
        // Wait until a good part of the big layer is on disk.
        let ingest = cli.root + "/store/content/ingest"
        let deadline = Date().addingTimeInterval(30)
        var partial: Int64 = 0
        while Date() < deadline, partial < 512 << 10 {
            usleep(20_000)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: ingest)) ?? [] {
                let attributes = try? FileManager.default.attributesOfItem(atPath: ingest + "/" + name)
                partial = max(partial, (attributes?[.size] as? Int64) ?? 0)
            }
        }
        #expect(partial >= 512 << 10)
        kill(pull.pid, SIGKILL)
        pull.stop()
        #expect(try cli.run(["images", "-q"]).stdout.isEmpty)

        registry.setBehaviour { $0.trickle = nil }
        let again = try cli.run(["pull", name])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(registry.requests.contains { ($0.headers["range"] ?? "").hasPrefix("bytes=") }, "the second pull resumed")
        let ran = try ImageRunner(cli: cli).run(name)
        #expect(ran.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == String(3 << 20), "\(ran.stderr)")
    }
}
