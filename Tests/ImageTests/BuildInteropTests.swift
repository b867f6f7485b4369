import Foundation
import Testing

/// An image made by `caisson build`, pushed to a real registry: skopeo reports the digest
/// caisson printed, and podman pulls and runs it.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BuildInteropTests {
    @Test(.enabled(if: PrivatePodman.available)) func aBuiltImageIsPulledAndRunByPodman() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let workspace = try BuildWorkspace("build-interop")
        defer { workspace.cleanUp() }
        let (cli, work) = (workspace.cli, workspace.work)
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
        let workspace = try BuildWorkspace("build-output")
        defer { workspace.cleanUp() }
        let (cli, work) = (workspace.cli, workspace.work)
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
        // `-f -`: the Dockerfile from standard input, the context from the path.
        let piped = try cli.run(["build", "-q", "-f", "-", "-o", work + "/piped", work + "/context"],
                                stdin: "FROM local/busybox:1\nRUN echo from-stdin > /piped\n")
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(try String(contentsOfFile: work + "/piped/piped", encoding: .utf8) == "from-stdin\n")
        // `-`: the context as a tar on standard input, compressed or not (xz here).
        #expect(try Shell.run("/bin/tar", ["-C", work + "/context", "-cf", work + "/context.tar", "."]).status == 0)
        let global = ["--root", cli.root + "/store", "--runroot", cli.runroot, "--registries-conf", cli.registriesConf]
        let fromStdin = try Shell.run("/bin/bash", ["-c", "xz -c \(work)/context.tar | " + ([CaissonCLI.binary, "build"] + global
                                                    + ["-q", "--network", "none", "-o", work + "/from-stdin", "-"]).map(Shell.quote).joined(separator: " ")])
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
        #expect(try String(contentsOfFile: work + "/from-stdin/made", encoding: .utf8) == "made\n")
        // --ssh needs an agent's socket.
        let notSocket = try cli.run(["build", "--ssh", "default=" + work + "/rootfs.tar", work + "/context"])
        #expect(notSocket.status == 125 && notSocket.stderr.contains("is not an SSH agent socket"), "\(notSocket.stderr)")
        let both = try cli.run(["build", "-f", "-", "-"])
        #expect(both.status == 125 && both.stderr.contains("cannot both come from standard input"), "\(both.stderr)")
    }
}

extension BuildInteropTests {
    /// `--format docker` writes Docker's media types, `--compression zstd|none` layers so
    /// compressed: pushed, skopeo reads the manifest and copies every blob (checking its
    /// digest), podman runs the zstd image; a zstd layer in the docker format is refused.
    @Test(.enabled(if: PrivatePodman.available)) func formatsAndCompressionsReachTheRegistry() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let workspace = try BuildWorkspace("build-formats")
        defer { workspace.cleanUp() }
        let (cli, work) = (workspace.cli, workspace.work)
        try "FROM local/busybox:1\nRUN echo formats > /made\nCMD [\"cat\", \"/made\"]\n"
            .write(toFile: work + "/context/Dockerfile", atomically: true, encoding: .utf8)
        let cases: [(format: String, compression: String, manifest: String, layer: String)] = [
            ("docker", "gzip", "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.image.rootfs.diff.tar.gzip"),
            ("docker", "none", "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.image.rootfs.diff.tar"),
            ("oci", "zstd", "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.layer.v1.tar+zstd"),
            ("oci", "none", "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.layer.v1.tar"),
        ]
        for item in cases {
            let name = "\(registry.host)/tests/\(item.format)-\(item.compression):1"
            let built = try cli.run(["build", "-q", "--format", item.format, "--compression", item.compression, "-t", name, work + "/context"])
            #expect(built.status == 0, "\(built.stderr)")
            #expect(try cli.run(["push", name]).status == 0)
            let raw = try Shell.run("/usr/bin/skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://" + name])
            let manifest = try #require(try JSONSerialization.jsonObject(with: Data(raw.stdout.utf8)) as? [String: Any], "\(raw.stderr)")
            #expect(manifest["mediaType"] as? String == item.manifest)
            let config = manifest["config"] as? [String: Any]
            #expect(config?["mediaType"] as? String == (item.format == "docker" ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json"))
            let layers = (manifest["layers"] as? [[String: Any]]) ?? []
            // The base layer (imported, gzip) is kept as it is, in the format's media type; the RUN layer as asked.
            #expect(layers.last?["mediaType"] as? String == item.layer, "\(raw.stdout)")
            let copied = try Shell.run("/usr/bin/skopeo", ["copy", "--src-tls-verify=false", "docker://" + name, "dir:" + work + "/copy-\(item.format)-\(item.compression)"])
            #expect(copied.status == 0, "\(copied.stderr)")
        }
        let refused = try cli.run(["build", "--format", "docker", "--compression", "zstd", work + "/context"])
        #expect(refused.status == 125 && refused.stderr.contains("needs --format oci"), "\(refused.stderr)")

        let podman = try PrivatePodman()
        defer { podman.cleanUp() }
        let conf = work + "/containers.conf"
        try "[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["CONTAINERS_CONF"] = conf
        environment["CONTAINERS_REGISTRIES_CONF"] = "/dev/null"
        let ran = try Shell.run("/usr/bin/podman", ["--root", podman.directory + "/storage", "--runroot", podman.directory + "/run",
                                                    "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "run", "--rm",
                                                    "--tls-verify=false", "--runtime", "runc", "--network", "none",
                                                    "\(registry.host)/tests/oci-zstd:1"],
                                timeout: 120, environment: environment)
        #expect(ran.stdout == "formats\n", "\(ran.stderr)")
    }
}

extension BuildInteropTests {
    /// `system df` counts the cached steps and cache mounts; `builder prune` frees both.
    @Test func systemDfShowsTheBuildCacheAndPruneFreesIt() throws {
        let workspace = try BuildWorkspace("build-df")
        defer { workspace.cleanUp() }
        let (cli, work) = (workspace.cli, workspace.work)
        func cacheRow() throws -> [String] {
            let df = try cli.run(["system", "df"])
            let line = df.stdout.split(separator: "\n").first { $0.hasPrefix("Build Cache") } ?? ""
            return line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        #expect(try cacheRow() == ["Build", "Cache", "0", "0", "0B"])
        try FileManager.default.createDirectory(atPath: work + "/context", withIntermediateDirectories: true)
        try "FROM local/busybox:1\nRUN --mount=type=cache,target=/c head -c 100000 /dev/zero > /c/blob && echo made > /made\nENV A=1\n"
            .write(toFile: work + "/context/Dockerfile", atomically: true, encoding: .utf8)
        #expect(try cli.run(["build", "-q", work + "/context"]).status == 0)
        let row = try cacheRow()
        #expect(row.count == 5 && row[2] == "1" && row[4].hasSuffix("kB"), "\(row)")  // the RUN (ENV needs no entry); the 100 kB mount
        let pruned = try cli.run(["builder", "prune", "-f"])
        #expect(pruned.stdout.contains("Deleted build cache objects: 2"), "\(pruned.stdout)")  // the step and the mount
        #expect(try cacheRow() == ["Build", "Cache", "0", "0", "0B"])
    }
}

extension BuildInteropTests {
    /// RUN steps get a network namespace of the build's own on the bridge network (as a
    /// container's), the host's with `--network host`, loopback only with `none` or
    /// `RUN --network=none`; the namespace is gone after the build.
    @Test func runStepsGetTheBuildsOwnBridgeNetwork() throws {
        let workspace = try BuildWorkspace("build-network")
        defer { workspace.cleanUp() }
        let (cli, work) = (workspace.cli, workspace.work)
        try """
        FROM local/busybox:1
        RUN ip -o -4 addr show | grep -v ' lo ' | sed 's/.*inet \\([0-9.]*\\).*/\\1/' > /addresses; cat /addresses
        RUN --network=none ip -o link show | grep -vc ' lo:' > /none-links || true
        """.write(toFile: work + "/context/Dockerfile", atomically: true, encoding: .utf8)
        func built(_ arguments: [String]) throws -> (addresses: String, noneLinks: String) {
            let result = try cli.run(["build", "-q", "--no-cache", "-o", work + "/out"] + arguments + [work + "/context"])
            #expect(result.status == 0, "\(result.stderr)")
            return ((try? String(contentsOfFile: work + "/out/addresses", encoding: .utf8)) ?? "",
                    (try? String(contentsOfFile: work + "/out/none-links", encoding: .utf8)) ?? "")
        }
        // A build without RUN steps attaches nothing to a network: the CNI plugins never ran.
        try FileManager.default.createDirectory(atPath: work + "/copy-only", withIntermediateDirectories: true)
        try "FROM scratch\nCOPY Dockerfile /d\n".write(toFile: work + "/copy-only/Dockerfile", atomically: true, encoding: .utf8)
        #expect(try cli.run(["build", "-q", work + "/copy-only"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: cli.runroot + "/cni/ipam"))
        let bridged = try built([])
        #expect(FileManager.default.fileExists(atPath: cli.runroot + "/cni/ipam"))
        let network = try cli.run(["network", "inspect", "bridge"])
        let inspected = try JSONSerialization.jsonObject(with: Data(network.stdout.utf8)) as? [[String: Any]]
        let subnet = ((inspected?.first?["IPAM"] as? [String: Any])?["Config"] as? [[String: Any]])?.first?["Subnet"] as? String ?? "?"
        let prefix = subnet.split(separator: ".").prefix(3).joined(separator: ".") + "."
        #expect(bridged.addresses.hasPrefix(prefix) && bridged.addresses.split(separator: "\n").count == 1,
                "\(bridged.addresses) not on \(subnet)")
        #expect(bridged.noneLinks == "0\n")
        let host = try built(["--network", "host"])
        // The host's own addresses, among them the bridge's gateway (other tests may add more meanwhile).
        let gateway = ((inspected?.first?["IPAM"] as? [String: Any])?["Config"] as? [[String: Any]])?.first?["Gateway"] as? String ?? "?"
        #expect(host.addresses.split(separator: "\n").contains(Substring(gateway)), "\(host.addresses) lacks \(gateway)")
        let none = try built(["--network", "none"])
        #expect(none.addresses.isEmpty)
        for area in ["/netns", "/build-networks"] {
            let left = (try? FileManager.default.contentsOfDirectory(atPath: cli.runroot + area)) ?? []
            #expect(left.isEmpty, "left in \(area): \(left)")
        }
    }
}
