import Foundation
import Testing

/// The docker CLI 28 against caissond's Docker Engine API, and the same containers and
/// images seen through `caisson` with the daemon's --root and --runroot.
@Suite(.serialized)
struct DockerCLITests {
    static let hasDocker = FileManager.default.isExecutableFile(atPath: DockerDaemonFixture.dockerCLI)

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func versionAndInfoNegotiated() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let version = try fixture.docker(["version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}"])
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout == "0.1.0 1.45 1.24 linux\n")
        let info = try fixture.docker(["info", "--format", "{{.ServerVersion}} {{.Images}} {{.Containers}} {{.OSType}} {{.CgroupDriver}} {{.DockerRootDir}}"])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout == "0.1.0 1 0 linux cgroupfs \(fixture.root)\n")
        let plain = try fixture.docker(["info"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("Server Version: 0.1.0"))
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func containerLifecycleSharedWithCaisson() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let run = try fixture.docker(["run", "-d", "--name", "web", "--network", "none", "--label", "tier=front",
                                      DockerDaemonFixture.image, "sh", "-c", "echo hello; echo oops >&2; sleep 300"])
        #expect(run.status == 0, "\(run.stderr)\n\(fixture.daemonLog)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)

        let ps = try fixture.docker(["ps", "--format", "{{.Names}} {{.Image}} {{.State}} {{.Label \"tier\"}}"])
        #expect(ps.stdout == "web \(DockerDaemonFixture.image) running front\n", "\(ps.stderr)")
        let filtered = try fixture.docker(["ps", "-q", "--no-trunc", "--filter", "name=web", "--filter", "status=running"])
        #expect(filtered.stdout == id + "\n")
        let caissonPS = try fixture.caisson("ps", ["--format", "{{.Names}} {{.State}}"])
        #expect(caissonPS.stdout == "web running\n", "\(caissonPS.stderr)")

        var logs = try fixture.docker(["logs", "web"])
        for _ in 0..<50 where !logs.stdout.contains("hello") {
            usleep(100_000)
            logs = try fixture.docker(["logs", "web"])
        }
        #expect(logs.stdout == "hello\n")
        #expect(logs.stderr == "oops\n")
        let running = try fixture.docker(["inspect", "-f", "{{.State.Running}} {{.Name}} {{.Config.Image}} {{index .Config.Labels \"tier\"}}", "web"])
        #expect(running.stdout == "true /web \(DockerDaemonFixture.image) front\n", "\(running.stderr)")

        // pause, unpause, rename and restart.
        #expect(try fixture.docker(["pause", "web"]).status == 0)
        #expect(try fixture.docker(["inspect", "-f", "{{.State.Status}}", "web"]).stdout == "paused\n")
        #expect(try fixture.docker(["unpause", "web"]).status == 0)
        #expect(try fixture.docker(["rename", "web", "web2"]).status == 0)
        #expect(try fixture.caisson("ps", ["--format", "{{.Names}}"]).stdout == "web2\n")
        #expect(try fixture.docker(["rename", "web2", "web"]).status == 0)
        let pidBefore = try fixture.docker(["inspect", "-f", "{{.State.Pid}}", "web"]).stdout
        let restarted = try fixture.docker(["restart", "-t", "1", "web"])
        #expect(restarted.status == 0, "\(restarted.stderr)")
        let pidAfter = try fixture.docker(["inspect", "-f", "{{.State.Pid}} {{.State.Running}}", "web"]).stdout
        #expect(pidAfter.hasSuffix(" true\n") && !pidAfter.hasPrefix(pidBefore.trimmingCharacters(in: .whitespacesAndNewlines) + " "), "\(pidBefore) \(pidAfter)")
        let started = try fixture.docker(["start", "web"])
        #expect(started.status == 0, "start of a running container is not an error (304)")
        let stop = try fixture.docker(["stop", "-t", "1", "web"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(stop.stdout == "web\n")
        let wait = try fixture.docker(["wait", "web"])
        #expect(wait.status == 0, "\(wait.stderr)")
        #expect(wait.stdout == "137\n" || wait.stdout == "143\n")
        let stopped = try fixture.docker(["ps", "-a", "--format", "{{.Names}} {{.State}}"])
        #expect(stopped.stdout == "web exited\n")

        let rm = try fixture.docker(["rm", "web"])
        #expect(rm.status == 0, "\(rm.stderr)")
        #expect(try fixture.caisson("ps", ["-a", "-q"]).stdout.isEmpty)

        // A container made by `caisson` is one docker sees, and removes.
        let made = try fixture.caisson("create", ["--name", "other", "--network", "none", DockerDaemonFixture.image, "true"])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try fixture.docker(["ps", "-a", "--format", "{{.Names}} {{.State}}"]).stdout == "other created\n")
        let runOnce = try fixture.docker(["start", "other"])
        #expect(runOnce.status == 0, "\(runOnce.stderr)")
        #expect(try fixture.docker(["wait", "other"]).stdout == "0\n")
        #expect(try fixture.docker(["rm", "other"]).status == 0)

        // What the API does not carry out yet is refused by name, never ignored.
        for (flags, field) in [(["--blkio-weight", "100"], "HostConfig.BlkioWeight"), (["--link", "other:db"], "HostConfig.Links"),
                               (["--cgroupns", "host"], "HostConfig.CgroupnsMode"), (["--volumes-from", "other"], "HostConfig.VolumesFrom"),
                               (["--log-driver", "syslog"], "HostConfig.LogConfig.Type")] {
            let refused = try fixture.docker(["create", "--network", "none"] + flags + [DockerDaemonFixture.image, "true"])
            #expect(refused.status != 0 && refused.stderr.contains(field), "\(flags): \(refused.stderr)")
        }
        #expect(try fixture.docker(["ps", "-a", "-q"]).stdout.isEmpty)
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func imagesTagAndRemove() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let images = try fixture.docker(["images", "--format", "{{.Repository}}:{{.Tag}}"])
        #expect(images.status == 0, "\(images.stderr)")
        #expect(images.stdout == "local/busybox:1\n")
        let tag = try fixture.docker(["tag", DockerDaemonFixture.image, "example/box:2"])
        #expect(tag.status == 0, "\(tag.stderr)")
        let tags = try fixture.docker(["image", "inspect", "-f", "{{len .RepoTags}}", "example/box:2"])
        #expect(tags.stdout == "2\n", "\(tags.stderr)")
        #expect(try fixture.caisson("images", ["--format", "{{.Repository}}:{{.Tag}}"]).stdout.contains("example/box:2"))
        let rmi = try fixture.docker(["rmi", "example/box:2"])
        #expect(rmi.status == 0, "\(rmi.stderr)")
        #expect(rmi.stdout.contains("Untagged: example/box:2"))
        #expect(try fixture.docker(["images", "-q"]).stdout.split(separator: "\n").count == 1)

        let missing = try fixture.docker(["inspect", "nosuch"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("No such object: nosuch"), "\(missing.stderr)")
        let missingContainer = try fixture.docker(["container", "inspect", "nosuch"])
        #expect(missingContainer.stderr.contains("No such container: nosuch"), "\(missingContainer.stderr)")
        let missingImage = try fixture.docker(["rmi", "nosuch:1"])
        #expect(missingImage.status == 1)
        #expect(missingImage.stderr.contains("No such image"), "\(missingImage.stderr)")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func errorsAsDockerGivesThem() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let ping = try fixture.request("GET", "/_ping")
        #expect(ping.status == 200 && ping.body == "OK")
        let unknown = try fixture.request("GET", "/v1.45/no/such/endpoint")
        #expect(unknown.status == 404)
        #expect(unknown.body.contains("\"message\""))
        let malformed = try fixture.request("POST", "/v1.45/containers/create", body: "{\"Image\": ")
        #expect(malformed.status == 400)
        #expect(malformed.body.contains("malformed request body"))
        let wrongType = try fixture.request("POST", "/containers/create", body: "{\"Image\": \"local/busybox:1\", \"HostConfig\": {\"Memory\": \"lots\"}}")
        #expect(wrongType.status == 400)
        #expect(wrongType.body.contains("HostConfig.Memory"))
        let noImage = try fixture.request("POST", "/containers/create", body: "{\"Image\": \"local/nothing:1\"}")
        #expect(noImage.status == 404)
        #expect(noImage.body.contains("No such image: local/nothing:1"))
        let tooNew = try fixture.request("GET", "/v1.99/version")
        #expect(tooNew.status == 400)
        #expect(tooNew.body.contains("too new"))
        let made = try fixture.request("POST", "/containers/create?name=dup", body: "{\"Image\": \"local/busybox:1\", \"Cmd\": [\"true\"], \"HostConfig\": {\"NetworkMode\": \"none\"}}")
        #expect(made.status == 201, "\(made.body)")
        let duplicate = try fixture.request("POST", "/containers/create?name=dup", body: "{\"Image\": \"local/busybox:1\", \"HostConfig\": {\"NetworkMode\": \"none\"}}")
        #expect(duplicate.status == 409)
        let stopCreated = try fixture.request("POST", "/containers/dup/stop")
        #expect(stopCreated.status == 304)
        let missing = try fixture.request("DELETE", "/containers/nosuch")
        #expect(missing.status == 404)
        #expect(missing.body.contains("No such container: nosuch"))
        #expect(try fixture.request("HEAD", "/_ping").status == 200)
        #expect(try fixture.request("GET", "/_ping").body == "OK", "the daemon still answers")
    }
}

extension DockerCLITests {
    /// `docker pull` (POST /images/create) from a registry the test runs, with docker's
    /// progress lines; `docker run` of an image that is not here pulls it first; a missing
    /// image is an error naming it.
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func pullThroughTheAPI() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let name = "\(registry.host)/tests/busybox:1"
        for step in [["tag", DockerDaemonFixture.image, name], ["push", name], ["rmi", name], ["rmi", DockerDaemonFixture.image]] {
            let done = try fixture.caisson(step[0], Array(step.dropFirst()))
            #expect(done.status == 0, "\(step): \(done.stderr)")
        }
        let pulled = try fixture.docker(["pull", name])
        #expect(pulled.status == 0, "\(pulled.stderr)\n\(fixture.daemonLog)")
        #expect(pulled.stdout.contains("Pulling from") && pulled.stdout.contains("Digest: sha256:")
                && pulled.stdout.contains("Status: Downloaded newer image for \(name)"), "\(pulled.stdout)")
        #expect(try fixture.caisson("images", ["--format", "{{.Repository}}:{{.Tag}}"]).stdout == name + "\n")
        let again = try fixture.docker(["pull", name])
        #expect(again.stdout.contains("Status: Image is up to date for \(name)"), "\(again.stdout)")

        // `docker run` of an image only the registry has: docker asks for a pull, then runs it.
        #expect(try fixture.caisson("rmi", [name]).status == 0)
        let run = try fixture.docker(["run", "-d", "--network", "none", name, "true"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("Unable to find image"), "\(run.stderr)")

        let missing = try fixture.docker(["pull", "\(registry.host)/tests/nosuch:1"])
        #expect(missing.status != 0 && missing.stderr.contains("nosuch"), "\(missing.stderr)")
        let importing = try fixture.request("POST", "/v1.45/images/create?fromSrc=http%3A%2F%2Fexample.com%2Fr.tar&repo=x")
        #expect(importing.status == 400 && importing.body.contains("fromSrc"), "\(importing.body)")
    }
}

extension DockerCLITests {
    /// `docker network` and `docker volume` on the engine's networks and volumes, seen by
    /// `caisson` too; what the engine cannot do is refused by name.
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func networksAndVolumes() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let created = try fixture.docker(["network", "create", "--label", "team=a", "--subnet", "10.231.7.0/24", "backend"])
        #expect(created.status == 0, "\(created.stderr)")
        let listed = try fixture.docker(["network", "ls", "--format", "{{.Name}} {{.Driver}}"])
        #expect(Set(listed.stdout.split(separator: "\n")) == ["backend bridge", "bridge bridge", "host host", "none null"], "\(listed.stdout)")
        let inspected = try fixture.docker(["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}} {{index .Labels \"team\"}}", "backend"])
        #expect(inspected.stdout == "10.231.7.0/24 a\n", "\(inspected.stderr)")
        #expect(try fixture.caisson("network ls", ["--format", "{{.Name}}"]).stdout.contains("backend"))
        let isolated = try fixture.docker(["network", "create", "--internal", "secret"])
        #expect(isolated.status != 0 && isolated.stderr.contains("Internal"), "\(isolated.stderr)")
        #expect(try fixture.docker(["network", "rm", "backend"]).status == 0)
        #expect(try fixture.docker(["network", "inspect", "backend"]).status != 0)

        let volume = try fixture.docker(["volume", "create", "--label", "keep=yes", "data"])
        #expect(volume.stdout == "data\n", "\(volume.stderr)")
        #expect(try fixture.docker(["volume", "ls", "--format", "{{.Name}} {{.Driver}}"]).stdout == "data local\n")
        let mountpoint = try fixture.docker(["volume", "inspect", "-f", "{{.Mountpoint}} {{index .Labels \"keep\"}}", "data"])
        #expect(mountpoint.stdout.hasPrefix(fixture.root) && mountpoint.stdout.hasSuffix(" yes\n"), "\(mountpoint.stdout)")
        #expect(try fixture.caisson("volume ls", ["-q"]).stdout == "data\n")
        // A container writes into it; the volume is in use until the container goes.
        let run = try fixture.docker(["run", "-d", "--name", "writer", "--network", "none", "-v", "data:/data",
                                      DockerDaemonFixture.image, "sh", "-c", "echo kept > /data/file; sleep 300"])
        #expect(run.status == 0, "\(run.stderr)")
        let busy = try fixture.docker(["volume", "rm", "data"])
        #expect(busy.status != 0, "\(busy.stdout)")
        #expect(try fixture.docker(["rm", "-f", "writer"]).status == 0)
        let driver = try fixture.docker(["volume", "create", "--driver", "nfs", "other"])
        #expect(driver.status != 0 && driver.stderr.contains("nfs"), "\(driver.stderr)")
        #expect(try fixture.docker(["volume", "rm", "data"]).status == 0)
        #expect(try fixture.docker(["volume", "ls", "-q"]).stdout.isEmpty)
    }
}
