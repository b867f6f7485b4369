import Foundation
import Testing

/// An image made by `caisson build`, pushed to a real registry: skopeo reports the digest
/// caisson printed, and podman pulls and runs it.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BuildInteropTests {
    @Test(.enabled(if: PrivatePodman.available)) func aBuiltImageIsPulledAndRunByPodman() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let work = try Scratch.directory("build-interop")
        defer { try? FileManager.default.removeItem(atPath: work) }
        try BusyboxLayer.tarball(at: work + "/rootfs.tar")
        #expect(try cli.run(["import", work + "/rootfs.tar", "local/busybox:1"]).status == 0)
        try FileManager.default.createDirectory(atPath: work + "/context", withIntermediateDirectories: true)
        try "FROM local/busybox:1\nRUN echo built-by-caisson > /built\nCMD [\"cat\", \"/built\"]\n"
            .write(toFile: work + "/context/Dockerfile", atomically: true, encoding: .utf8)
        let name = "\(registry.host)/tests/built:1"
        let built = try cli.run(["build", "-q", "-t", name, work + "/context"])
        #expect(built.status == 0, "\(built.stderr)")
        let pushed = try cli.run(["push", name])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let digest = pushed.stdout.firstMatch(of: /digest: (sha256:[0-9a-f]{64})/).map { String($0.1) }
        #expect(digest != nil, "\(pushed.stdout)")

        let inspected = try Shell.run("/usr/bin/skopeo", ["inspect", "--tls-verify=false", "docker://" + name])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let reported = (try? JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any])?["Digest"] as? String
        #expect(reported == digest)

        let podman = try PrivatePodman()
        defer { podman.cleanUp() }
        let conf = work + "/containers.conf"
        try "[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let pulled = try podman.run(["pull", "--tls-verify=false", name])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        var environment = ProcessInfo.processInfo.environment
        environment["CONTAINERS_CONF"] = conf
        environment["CONTAINERS_REGISTRIES_CONF"] = "/dev/null"
        let ran = try Shell.run("/usr/bin/podman", ["--root", podman.directory + "/storage", "--runroot", podman.directory + "/run",
                                                    "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "run", "--rm",
                                                    "--runtime", "runc", "--network", "none", name],
                                timeout: 120, environment: environment)
        #expect(ran.stdout == "built-by-caisson\n", "\(ran.stderr)")
    }
}

extension BuildInteropTests {
    /// `--output`: the root filesystem as a directory or a tar, or the image as an OCI or
    /// docker archive that skopeo reads; a bad --output is refused before building.
    @Test func outputsWriteTheResult() throws {
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let work = try Scratch.directory("build-output")
        defer { try? FileManager.default.removeItem(atPath: work) }
        try BusyboxLayer.tarball(at: work + "/rootfs.tar")
        #expect(try cli.run(["import", work + "/rootfs.tar", "local/busybox:1"]).status == 0)
        try FileManager.default.createDirectory(atPath: work + "/context", withIntermediateDirectories: true)
        try "FROM local/busybox:1\nRUN echo made > /made\n".write(toFile: work + "/context/Dockerfile", atomically: true, encoding: .utf8)
        #expect(try cli.run(["build", "-q", "-o", work + "/rootfs", work + "/context"]).status == 0)
        #expect(try String(contentsOfFile: work + "/rootfs/made", encoding: .utf8) == "made\n")
        #expect(try cli.run(["build", "-q", "--output", "type=tar,dest=\(work)/rootfs-out.tar", work + "/context"]).status == 0)
        #expect(try Shell.run("/bin/tar", ["-tf", work + "/rootfs-out.tar"]).stdout.contains("./made"))
        for (type, transport) in [("oci", "oci-archive"), ("docker", "docker-archive")] {
            let archive = "\(work)/\(type).tar"
            let built = try cli.run(["build", "-q", "--output", "type=\(type),dest=\(archive)", work + "/context"])
            #expect(built.status == 0, "\(built.stderr)")
            let inspected = try Shell.run("/usr/bin/skopeo", ["inspect", "\(transport):\(archive)"])
            #expect(inspected.status == 0, "\(type): \(inspected.stderr)")
        }
        let bad = try cli.run(["build", "--output", "type=zip,dest=x", work + "/context"])
        #expect(bad.status == 125 && bad.stderr.contains("type must be local, tar, oci or docker"))
    }
}
