import Foundation
import Testing

/// What the docker CLI reads from and writes into containers through caissond: `docker
/// stats` (CPU, memory limit, network, pids), `docker cp` both ways (contained: a symlink
/// pointing out of the container and `../` tar entries never reach the host), `docker
/// export`, `docker diff`, `docker events` with filters, `docker system df`, and
/// `docker network connect/disconnect/prune`.
@Suite(.serialized)
struct DockerContainerDataTests {
    static let hasDocker = FileManager.default.isExecutableFile(atPath: DockerDaemonFixture.dockerCLI)
    static let image = DockerDaemonFixture.image

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    // The busy container gets half a CPU: on a two-core machine a whole one starved the
    // suites running beside it (the CI failure on record: this test took 126 s).
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(3)))
    func statsShowCPUMemoryNetworkAndPids() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let run = try fixture.docker(["run", "-d", "--name", "burn", "--memory", "64m", "--cpus", "0.5", Self.image,
                                      "sh", "-c", "while :; do :; done"])
        #expect(run.status == 0, "\(run.stderr)\n\(fixture.daemonLog)")
        let stats = try fixture.docker(["stats", "--no-stream", "--format", "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.NetIO}}|{{.PIDs}}", "burn"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let fields = stats.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map(String.init)
        #expect(fields.count == 5, "\(stats.stdout)")
        if fields.count == 5 {
            #expect(fields[0] == "burn")
            let cpu = Double(fields[1].dropLast()) ?? 0
            #expect(cpu > 10, "\(stats.stdout)")
            #expect(fields[2].hasSuffix("/ 64MiB"), "\(stats.stdout)")
            #expect(fields[3].contains("B / "), "\(stats.stdout)")
            #expect((Int(fields[4]) ?? 0) >= 1, "\(stats.stdout)")
        }
        // The raw document: docker's field names, the previous sample, the interfaces.
        let raw = try fixture.request("GET", "/v1.45/containers/burn/stats?stream=false")
        #expect(raw.status == 200)
        let document = try JSONSerialization.jsonObject(with: Data(raw.body.utf8)) as? [String: Any] ?? [:]
        let cpuStats = document["cpu_stats"] as? [String: Any] ?? [:]
        let precpu = document["precpu_stats"] as? [String: Any] ?? [:]
        let usage = (cpuStats["cpu_usage"] as? [String: Any])?["total_usage"] as? Int ?? 0
        let previous = (precpu["cpu_usage"] as? [String: Any])?["total_usage"] as? Int ?? 0
        #expect(usage > previous && previous > 0, "\(raw.body)")
        #expect((cpuStats["online_cpus"] as? Int ?? 0) >= 1)
        #expect((document["memory_stats"] as? [String: Any])?["limit"] as? Int == 64 << 20)
        #expect((document["networks"] as? [String: Any])?["eth0"] != nil, "\(raw.body)")
        #expect(document["name"] as? String == "/burn")
        #expect(try fixture.request("GET", "/containers/burn/stats?stream=true&one-shot=true").status == 400)
        // Streamed: one document a second until the client goes.
        let streamed = try Shell.run("/usr/bin/timeout", ["-s", "KILL", "2.5", DockerDaemonFixture.dockerCLI, "stats", "--format", "{{.Name}} {{.PIDs}}", "burn"],
                                     environment: fixture.dockerEnvironment)
        #expect(streamed.stdout.components(separatedBy: "burn 1").count >= 3, "\(streamed.stdout.debugDescription)")
        let missing = try fixture.request("GET", "/containers/nothere/stats?stream=false")
        #expect(missing.status == 404)
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(1)))
    func copyBothWaysContainedExportAndDiff() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let host = fixture.directory + "/host"
        try FileManager.default.createDirectory(atPath: host + "/tree/sub", withIntermediateDirectories: true)
        try "one\n".write(toFile: host + "/a.txt", atomically: true, encoding: .utf8)
        try "two\n".write(toFile: host + "/tree/sub/b.txt", atomically: true, encoding: .utf8)
        #expect(try fixture.docker(["run", "-d", "--name", "box", Self.image, "sh", "-c",
                                    "ln -s /../../../etc /tmp/link; mkdir /data; sleep 300"]).status == 0)
        usleep(300_000)

        // Host to container: a file into a directory, a directory under a new name.
        #expect(try fixture.docker(["cp", host + "/a.txt", "box:/data/"]).status == 0)
        let tree = try fixture.docker(["cp", host + "/tree", "box:/data/copied"])
        #expect(tree.status == 0, "\(tree.stderr)")
        #expect(try fixture.docker(["exec", "box", "cat", "/data/a.txt", "/data/copied/sub/b.txt"]).stdout == "one\ntwo\n")

        // A symlink in the container that points "out": it resolves inside the container.
        let marker = "caisson-cp-escape-\(UUID().uuidString.prefix(8))"
        try "inside\n".write(toFile: host + "/" + marker, atomically: true, encoding: .utf8)
        let through = try fixture.docker(["cp", host + "/" + marker, "box:/tmp/link/"])
        #expect(through.status == 0, "\(through.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/etc/" + marker))
        #expect(try fixture.docker(["exec", "box", "cat", "/etc/" + marker]).stdout == "inside\n")

        // A tar with ../ entries sent as a raw PUT is refused; nothing lands outside.
        let evil = fixture.directory + "/evil.tar"
        let python = "import tarfile,io,sys\nt=tarfile.open(sys.argv[1],'w')\nfor n in ['../../../../tmp/\(marker)-up','ok']:\n"
            + "    i=tarfile.TarInfo(n); d=b'x'; i.size=len(d); t.addfile(i,io.BytesIO(d))\nt.close()\n"
        #expect(try Shell.run("/usr/bin/python3", ["-c", python, evil]).status == 0)
        let body = try [UInt8](Data(contentsOf: URL(fileURLWithPath: evil)))
        let head = "PUT /v1.45/containers/box/archive?path=/data HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
            + "Content-Type: application/x-tar\r\nContent-Length: \(body.count)\r\n\r\n"
        let answer = String(decoding: try fixture.exchange(Array(head.utf8) + body), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)-up"))
        #expect(try fixture.docker(["exec", "box", "ls", "/tmp/\(marker)-up"]).status != 0)

        // Container to host: a file under a new name, a directory, the symlink itself.
        #expect(try fixture.docker(["cp", "box:/data/copied/sub/b.txt", host + "/back.txt"]).status == 0)
        #expect(try String(contentsOfFile: host + "/back.txt", encoding: .utf8) == "two\n")
        #expect(try fixture.docker(["cp", "box:/data/copied", host + "/copied-back"]).status == 0)
        #expect(try String(contentsOfFile: host + "/copied-back/sub/b.txt", encoding: .utf8) == "two\n")
        // The link itself comes back (not what it points to); the docker CLI refuses to
        // write one that leads out of its destination, as with dockerd.
        let link = try fixture.docker(["cp", "box:/tmp/link", host + "/link-back"])
        #expect(link.status != 0 && link.stderr.contains("invalid symlink") && link.stderr.contains("/../../../etc"), "\(link.stderr)")
        #expect(!FileManager.default.fileExists(atPath: host + "/link-back"))
        // HEAD: docker's path stat header (base64 JSON, Go file mode bits) and no body.
        let headResponse = String(decoding: try fixture.exchange(Array("HEAD /v1.45/containers/box/archive?path=/tmp/link HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n".utf8)), as: UTF8.self)
        let encoded = headResponse.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-docker-container-path-stat:") }
            .map { String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces) } ?? ""
        let stat = (Data(base64Encoded: encoded)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        #expect(stat["name"] as? String == "link" && stat["linkTarget"] as? String == "/etc", "\(headResponse)")
        #expect(stat["mode"] as? Int == (1 << 27) | 0o777, "\(stat)")
        #expect(try fixture.request("HEAD", "/v1.45/containers/box/archive?path=/nope").status == 404)

        // A file where the container has a directory of that name is refused (the docker CLI
        // asks for noOverwriteDirNonDir).
        try "file\n".write(toFile: host + "/copied", atomically: true, encoding: .utf8)
        let clash = try fixture.docker(["cp", host + "/copied", "box:/data/"])
        #expect(clash.status != 0 && clash.stderr.contains("cannot overwrite directory"), "\(clash.stderr)")
        let missing = try fixture.docker(["cp", "box:/nope", host + "/nope"])
        #expect(missing.status != 0 && missing.stderr.contains("Could not find the file /nope in container box"), "\(missing.stderr)")

        // docker diff: added files, changed directories.
        let diff = Self.lines(try fixture.docker(["diff", "box"]).stdout)
        #expect(diff.contains("A /data") && diff.contains("A /data/a.txt") && diff.contains("C /tmp") && diff.contains("A /tmp/link"), "\(diff)")

        // export: the whole filesystem as a tar, its entries named as dockerd's (no "./").
        let export = try Shell.run("/bin/bash", ["-c", Shell.quote(DockerDaemonFixture.dockerCLI) + " export box | tar t"],
                                   environment: fixture.dockerEnvironment)
        let names = Set(Self.lines(export.stdout))
        #expect(names.contains("bin/busybox") && names.contains("data/a.txt") && names.contains("bin/"), "\(export.stderr) \(names.count)")
        #expect(!names.contains("./") && !names.contains { $0.hasPrefix("./") }, "\(names.sorted().prefix(5))")

        // cp -a (copyUIDGID): what is copied belongs to the container's user.
        #expect(try fixture.docker(["run", "-d", "--name", "owned", "--user", "1234:5678", Self.image, "sleep", "300"]).status == 0)
        let archive = try fixture.docker(["cp", "-a", host + "/tree", "owned:/tmp/"])
        #expect(archive.status == 0, "\(archive.stderr)")
        let owners = try fixture.docker(["exec", "owned", "stat", "-c", "%u:%g", "/tmp/tree", "/tmp/tree/sub/b.txt"])
        #expect(owners.stdout == "1234:5678\n1234:5678\n", "\(owners.stdout) \(owners.stderr)")

        // A stopped container: both ways still work.
        #expect(try fixture.docker(["stop", "-t", "0", "box"]).status == 0)
        #expect(try fixture.docker(["cp", host + "/a.txt", "box:/data/after.txt"]).status == 0)
        #expect(try fixture.docker(["cp", "box:/data/after.txt", host + "/after.txt"]).status == 0)
        #expect(try String(contentsOfFile: host + "/after.txt", encoding: .utf8) == "one\n")
    }

    /// docker cp reaches the volume or bind mount a path is in (running or stopped), the
    /// engine's /etc/hosts, and refuses to write into a read-only mount or root filesystem.
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(1)))
    func copyThroughMounts() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let host = fixture.directory + "/host"
        try FileManager.default.createDirectory(atPath: host + "/bound", withIntermediateDirectories: true)
        try "one\n".write(toFile: host + "/a.txt", atomically: true, encoding: .utf8)
        try "bound\n".write(toFile: host + "/bound/present", atomically: true, encoding: .utf8)
        #expect(try fixture.docker(["run", "-d", "--name", "vols", "--network", "none", "-v", "store:/data", "-v", host + "/bound:/ro:ro",
                                    Self.image, "sh", "-c", "echo made > /data/made; sleep 300"]).status == 0)
        usleep(300_000)

        // Into the volume, as the container sees it; out of it, what the container wrote.
        let into = try fixture.docker(["cp", host + "/a.txt", "vols:/data/"])
        #expect(into.status == 0, "\(into.stderr)")
        #expect(try fixture.docker(["exec", "vols", "cat", "/data/a.txt"]).stdout == "one\n")
        let source = try fixture.docker(["volume", "inspect", "-f", "{{.Mountpoint}}", "store"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.fileExists(atPath: source + "/a.txt"), "\(source)")
        #expect(try fixture.docker(["cp", "vols:/data/made", host + "/made"]).status == 0)
        #expect(try String(contentsOfFile: host + "/made", encoding: .utf8) == "made\n")
        #expect(try fixture.docker(["cp", "vols:/data", host + "/whole"]).status == 0)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: host + "/whole")) == ["a.txt", "made"])
        // The CLI's cp goes the same way.
        #expect(try fixture.caisson("cp", [host + "/a.txt", "vols:/data/cli.txt"]).status == 0)
        #expect(try fixture.docker(["exec", "vols", "cat", "/data/cli.txt"]).stdout == "one\n")

        // A read-only bind: read, never written.
        #expect(try fixture.docker(["cp", "vols:/ro/present", host + "/present"]).status == 0)
        #expect(try String(contentsOfFile: host + "/present", encoding: .utf8) == "bound\n")
        let readOnly = try fixture.docker(["cp", host + "/a.txt", "vols:/ro/"])
        #expect(readOnly.status != 0 && readOnly.stderr.contains("mounted volume is marked read-only"), "\(readOnly.stderr)")
        #expect(!FileManager.default.fileExists(atPath: host + "/bound/a.txt"))

        // The engine's /etc/hosts, the one the container reads.
        #expect(try fixture.docker(["cp", "vols:/etc/hosts", host + "/hosts"]).status == 0)
        let hosts = try String(contentsOfFile: host + "/hosts", encoding: .utf8)
        let seen = try fixture.docker(["exec", "vols", "cat", "/etc/hosts"]).stdout
        #expect(hosts == seen && seen.contains("localhost"), "\(hosts) vs \(seen)")

        // Stopped: the volume still.
        #expect(try fixture.docker(["stop", "-t", "0", "vols"]).status == 0)
        #expect(try fixture.docker(["cp", host + "/a.txt", "vols:/data/later.txt"]).status == 0)
        #expect(try fixture.docker(["run", "--rm", "--network", "none", "-v", "store:/data", Self.image, "cat", "/data/later.txt"]).stdout == "one\n")

        // A --read-only container's root filesystem is not written either.
        #expect(try fixture.docker(["run", "-d", "--name", "sealed", "--network", "none", "--read-only", Self.image, "sleep", "300"]).status == 0)
        let sealed = try fixture.docker(["cp", host + "/a.txt", "sealed:/"])
        #expect(sealed.status != 0 && sealed.stderr.contains("container rootfs is marked read-only"), "\(sealed.stderr)")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(1)))
    func eventsSystemDFAndNetworks() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let since = String(Int(Date().timeIntervalSince1970) - 1)
        #expect(try fixture.docker(["run", "--name", "ev", "--label", "team=a", Self.image, "sh", "-c", "exit 3"]).status == 3)
        #expect(try fixture.docker(["rm", "ev"]).status == 0)
        #expect(try fixture.docker(["volume", "create", "vol1"]).status == 0)
        #expect(try fixture.docker(["tag", Self.image, "local/other:2"]).status == 0)
        #expect(try fixture.docker(["rmi", "local/other:2"]).status == 0)
        #expect(try fixture.docker(["network", "create", "--label", "x=y", "n1"]).status == 0)
        #expect(try fixture.docker(["network", "create", "n2"]).status == 0)
        #expect(try fixture.docker(["run", "-d", "--name", "c1", "-v", "vol1:/v", Self.image, "sleep", "300"]).status == 0)
        let connect = try fixture.docker(["network", "connect", "--alias", "buddy", "n1", "c1"])
        #expect(connect.status == 0, "\(connect.stderr)")
        let joined = try fixture.docker(["inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "c1"])
        #expect(joined.stdout == "bridge n1 \n", "\(joined.stdout)")
        #expect(try fixture.docker(["exec", "c1", "ip", "addr", "show", "eth1"]).status == 0)
        // The alias is a name of c1 for the network's other containers.
        let peer = try fixture.docker(["run", "--rm", "--network", "n1", Self.image, "grep", "-c", "buddy", "/etc/hosts"])
        #expect(peer.stdout == "1\n", "\(peer.stdout) \(peer.stderr)")
        #expect(try fixture.docker(["network", "connect", "--ip", "10.1.2.3", "n2", "c1"]).stderr.contains("IPAMConfig"))

        // docker system df while a volume and a container exist.
        let df = Self.lines(try fixture.docker(["system", "df"]).stdout)
        #expect(df.count == 5 && df[1].hasPrefix("Images") && df[2].hasPrefix("Containers") && df[3].hasPrefix("Local Volumes")
                && df[4].hasPrefix("Build Cache"), "\(df)")
        #expect(df.count == 5 && !df[1].contains("-") && df[1].contains("0B (0%)"), "the one image is in use: \(df)")
        let volumes = try fixture.docker(["system", "df", "-v", "--format", "{{range .Volumes}}{{.Name}} {{.Links}}{{end}}"])
        #expect(volumes.stdout.contains("vol1 1"), "\(volumes.stdout) \(volumes.stderr)")

        #expect(try fixture.docker(["network", "disconnect", "n1", "c1"]).status == 0)
        let pruned = try fixture.docker(["network", "prune", "-f", "--filter", "label=x=y"])
        #expect(pruned.stdout.contains("n1") && !pruned.stdout.contains("n2"), "\(pruned.stdout) \(pruned.stderr)")
        #expect(try fixture.docker(["network", "prune", "-f"]).stdout.contains("n2"))
        #expect(try fixture.docker(["network", "ls", "--format", "{{.Name}}"]).stdout.contains("n2") == false)

        let until = String(Int(Date().timeIntervalSince1970) + 1)
        let containerEvents = try fixture.docker(["events", "--since", since, "--until", until, "--filter", "container=ev",
                                                  "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"], timeout: 20)
        let actions = Self.lines(containerEvents.stdout)
        let expected = ["container create ev", "container start ev", "container die ev", "container destroy ev"]
        #expect(actions.filter { expected.contains($0) } == expected, "\(actions) \(containerEvents.stderr)")
        let died = try fixture.docker(["events", "--since", since, "--until", until, "--filter", "event=die", "--filter", "label=team=a",
                                       "--format", "{{.Actor.Attributes.exitCode}} {{.Actor.Attributes.image}} {{.Status}} {{.From}}"], timeout: 20)
        #expect(died.stdout == "3 \(Self.image) die \(Self.image)\n", "\(died.stdout) \(died.stderr)")
        let network = try fixture.docker(["events", "--since", since, "--until", until, "--filter", "type=network", "--filter", "network=n1",
                                          "--format", "{{.Action}} {{.Actor.Attributes.name}}"], timeout: 20)
        // c1 connected; the peer run on n1 connected at its start and disconnected at its exit; c1 disconnected.
        #expect(Self.lines(network.stdout) == ["create n1", "connect n1", "connect n1", "disconnect n1", "disconnect n1", "destroy n1"],
                "\(network.stdout)")
        let volume = try fixture.docker(["events", "--since", since, "--until", until, "--filter", "type=volume",
                                         "--format", "{{.Action}} {{.Actor.ID}}"], timeout: 20)
        #expect(Self.lines(volume.stdout) == ["create vol1"], "\(volume.stdout)")
        let image = try fixture.docker(["events", "--since", since, "--until", until, "--filter", "type=image",
                                        "--format", "{{.Action}} {{.Actor.Attributes.name}}"], timeout: 20)
        #expect(Self.lines(image.stdout).map { String($0.split(separator: " ")[0]) } == ["tag", "untag"], "\(image.stdout)")
        #expect(Self.lines(image.stdout).first == "tag local/other:2", "\(image.stdout)")
        #expect(try fixture.request("GET", "/events?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D").status == 400)

        // Without --until the stream follows new events until the client goes.
        let follower = try BackgroundProcess("/usr/bin/env", [
            "DOCKER_HOST=unix://" + fixture.socketPath, "DOCKER_CONFIG=" + fixture.directory + "/docker-config",
            DockerDaemonFixture.dockerCLI, "events", "--filter", "event=start", "--format", "{{.Actor.Attributes.name}}",
        ], log: fixture.directory + "/events.out")
        usleep(500_000)
        #expect(try fixture.docker(["run", "-d", "--name", "later", Self.image, "true"]).status == 0)
        var seen = ""
        for _ in 0..<30 {
            seen = (try? String(contentsOfFile: fixture.directory + "/events.out", encoding: .utf8)) ?? ""
            if seen.contains("later") { break }
            usleep(100_000)
        }
        follower.stop()
        #expect(seen.contains("later") && !seen.contains("c1"), "\(seen)")
        // A client that closes its side ends the stream even when no event comes.
        let started = Date()
        let closed = String(decoding: try fixture.exchange(Array("GET /v1.45/events HTTP/1.1\r\nHost: d\r\n\r\n".utf8), halfClose: true), as: UTF8.self)
        #expect(closed.hasPrefix("HTTP/1.1 200") && Date().timeIntervalSince(started) < 5, "\(closed)")
    }
}
