import Builder
import CaissonSys
import Foundation
import ImageSpec
import Images
import Testing

/// A RUN step in a real container on the stage's layers: its changes become a layer
/// (deletions as whiteouts), its output is streamed, a failure names the step, its status
/// and last lines, and nothing is left behind either way.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RunStepTests {
    /// A store with a busybox base layer, and the state of `FROM` it.
    static func base() throws -> (ImageService, BuildState, String) {
        let root = try Scratch.directory("build-store")
        let service = try ImageService(ImageStoreOptions(root: root + "/store", driver: .overlay))
        let tree = try Scratch.directory("build-base")
        try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: tree + "/bin/busybox")
        for applet in ["sh", "echo", "rm", "cat", "touch"] {
            try FileManager.default.createSymbolicLink(atPath: tree + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "".write(toFile: tree + "/bin/rmme", atomically: true, encoding: .utf8)
        try "root:x:0:0:root:/root:/bin/sh\n".write(toFile: tree + "/etc/passwd", atomically: true, encoding: .utf8)
        let layer = try #require(try service.commitLayer(upperDirectory: tree))
        var config = ImageConfig.RunConfig()
        config.Env = ["PATH=/bin"]
        return (service, BuildState(layers: [layer], config: config, history: [.init(created: nil, createdBy: "base")]), root)
    }

    static func leftovers(_ service: ImageService, runtimeRoot: String) -> [String] {
        var found: [String] = []
        for directory in [service.root + "/build", service.root + "/rootfs", runtimeRoot] {
            let items = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            found += items.map { directory + "/" + $0 }
        }
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        found += mounts.split(separator: "\n").filter { $0.contains(service.root) }.map(String.init)
        return found
    }

    @Test func aRunStepsChangesBecomeItsLayer() throws {
        let (service, state, root) = try Self.base()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runtimeRoot = try Scratch.directory("build-runtime")
        let log = root + "/output"
        let output = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(output) }
        let step = RunStep(command: ["/bin/sh", "-c", "echo built > /built; rm /bin/rmme; echo to-the-log"],
                           createdBy: "RUN /bin/sh -c echo built")
        let next = try step.run(on: state, images: service, runtime: CaissonCLI.runtimeBinary, runtimeRoot: runtimeRoot,
                                output: output)
        #expect(next.layers.count == 2)
        #expect(next.history.last?.created_by == "RUN /bin/sh -c echo built")
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("to-the-log"))
        let snapshot = service.snapshots.layerPath(try #require(next.layers.last).diffID)
        #expect(try String(contentsOfFile: snapshot + "/built", encoding: .utf8) == "built\n")
        // Only the step's work: no /proc, /sys, /dev or /etc/hosts stubs the runtime made.
        #expect((FileManager.default.enumerator(atPath: snapshot)?.allObjects as? [String] ?? []).sorted() == ["bin", "bin/rmme", "built"])
        var whiteout = stat()
        #expect(lstat(snapshot + "/bin/rmme", &whiteout) == 0 && whiteout.st_mode & S_IFMT == S_IFCHR && whiteout.st_rdev == 0)
        #expect(Self.leftovers(service, runtimeRoot: runtimeRoot).isEmpty)

        // A step that changes nothing adds history but no layer.
        let same = try RunStep(command: ["/bin/sh", "-c", ":"], createdBy: "RUN :")
            .run(on: next, images: service, runtime: CaissonCLI.runtimeBinary, runtimeRoot: runtimeRoot, output: output)
        #expect(same.layers.count == 2)
        #expect(same.history.last?.empty_layer == true)

        let image = try service.writeImage(layers: same.layers, config: same.config, history: same.history,
                                           platform: same.platform, names: ["build/runstep:1"])
        let target = try Scratch.directory("build-check")
        try service.mountRootfs(image, id: "runstep-check", target: target)
        defer { try? service.unmountRootfs(id: "runstep-check", target: target) }
        #expect(FileManager.default.fileExists(atPath: target + "/built"))
        #expect(!FileManager.default.fileExists(atPath: target + "/bin/rmme"))
    }

    @Test func aFailingStepNamesItsStatusAndLastLinesAndLeavesNothing() throws {
        let (service, state, root) = try Self.base()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runtimeRoot = try Scratch.directory("build-runtime")
        let output = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(output) }
        let step = RunStep(command: ["/bin/sh", "-c", "touch /half-done; echo one; echo two >&2; exit 3"],
                           createdBy: "RUN make")
        do {
            _ = try step.run(on: state, images: service, runtime: CaissonCLI.runtimeBinary, runtimeRoot: runtimeRoot, output: output)
            Issue.record("the step should fail")
        } catch {
            guard case .stepFailed(let name, let status, let lines) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(name == "RUN make")
            #expect(status == 3)
            #expect(lines == ["one", "two"])
            #expect("\(error)".contains("exit status 3"))
        }
        #expect(Self.leftovers(service, runtimeRoot: runtimeRoot).isEmpty)
        #expect(service.snapshots.layers().count == 1)
    }
}

extension RunStepTests {
    /// A build killed midway leaves a mounted step and scratch directories; the next build
    /// (here: the sweep it starts with) removes them, and nothing of a live build.
    @Test func leftoversOfADeadBuildAreSwept() throws {
        let (service, state, root) = try Self.base()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runtimeRoot = try Scratch.directory("build-runtime")
        var exited: pid_t = 0
        let spawned = try Shell.run("/bin/sh", ["-c", "echo $$"])
        exited = pid_t(spawned.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 999_999
        let dead = "build-\(exited)-0123456789ab"
        try FileManager.default.createDirectory(atPath: service.root + "/build/\(dead)", withIntermediateDirectories: true)
        try service.mountLayers(state.layers.map { ($0.descriptor, $0.diffID) }, id: dead, target: service.root + "/build/\(dead)/rootfs")
        try FileManager.default.createDirectory(atPath: service.root + "/build/copy-\(exited)-0123456789ab", withIntermediateDirectories: true)
        let alive = "copy-\(getpid())-0123456789ab"
        try FileManager.default.createDirectory(atPath: service.root + "/build/\(alive)", withIntermediateDirectories: true)

        let removed = BuildLeftovers.sweep(images: service, runtime: CaissonCLI.runtimeBinary, runtimeRoot: runtimeRoot)
        #expect(Set(removed) == [dead, "copy-\(exited)-0123456789ab"])
        #expect(Self.leftovers(service, runtimeRoot: runtimeRoot) == [service.root + "/build/\(alive)"])
        try? FileManager.default.removeItem(atPath: service.root + "/build/\(alive)")
    }
}
