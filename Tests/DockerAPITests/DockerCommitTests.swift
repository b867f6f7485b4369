import Foundation
import Testing

/// `docker commit` and `docker diff` (and `caisson commit`/`diff` on the same engine): a
/// container's changes made an image layer, whiteouts for what it deleted, the engine's
/// own mount points left out, the configuration merged as dockerd merges it and changed
/// by `--change`; mistakes named.
@Suite(.serialized)
struct DockerCommitTests {
    static let image = DockerDaemonFixture.image

    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func commitAndDiff() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let made = try fixture.docker(["run", "--name", "box", "--network", "none", "-e", "GIVEN=1", "-w", "/srv", Self.image,
                                       "sh", "-c", "mkdir -p /srv && echo hello > /srv/greeting && rm /bin/vi && touch /etc/profile"])
        #expect(made.status == 0, "\(made.stderr)")

        // diff: what the container added, changed and deleted; not /etc/hosts and the like.
        let diff = try fixture.docker(["diff", "box"])
        #expect(diff.status == 0, "\(diff.stderr)")
        let lines = diff.stdout.split(separator: "\n").map(String.init)
        for expected in ["A /srv", "A /srv/greeting", "C /bin", "D /bin/vi", "C /etc", "A /etc/profile"] {
            #expect(lines.contains(expected), "\(expected) missing from \(lines)")
        }
        #expect(!lines.contains { $0.hasSuffix("/etc/hosts") || $0.hasSuffix("/etc/resolv.conf") || $0.hasSuffix("/etc/hostname") },
                "\(lines)")
        #expect(lines == lines.sorted { $0.dropFirst(2) < $1.dropFirst(2) }, "\(lines)")
        #expect(try fixture.caisson("diff", ["box"]).stdout == diff.stdout)

        // commit: the layer, the configuration merged with the changes, author and message.
        let committed = try fixture.docker(["commit", "-a", "Ann <ann@example.com>", "-m", "a greeting",
                                            "-c", "ENV ADDED=2", "-c", "CMD [\"cat\", \"greeting\"]", "-c", "EXPOSE 8080",
                                            "box", "local/committed:1"])
        #expect(committed.status == 0, "\(committed.stderr)")
        #expect(committed.stdout.hasPrefix("sha256:") && committed.stdout.count == 72, "\(committed.stdout)")
        let ran = try fixture.docker(["run", "--rm", "--network", "none", "local/committed:1"])
        #expect(ran.status == 0 && ran.stdout == "hello\n", "\(ran.stdout) \(ran.stderr)")
        let deleted = try fixture.docker(["run", "--rm", "--network", "none", "local/committed:1", "ls", "/bin/vi"])
        #expect(deleted.status != 0, "\(deleted.stdout)")
        let inspected = try fixture.docker(["image", "inspect", "-f",
                                            "{{.Author}}|{{.Comment}}|{{.Config.WorkingDir}}|{{json .Config.Env}}|{{json .Config.ExposedPorts}}",
                                            "local/committed:1"])
        #expect(inspected.stdout.hasPrefix("Ann <ann@example.com>|a greeting|/srv|"), "\(inspected.stdout)")
        #expect(inspected.stdout.contains("[\"GIVEN=1\",\"ADDED=2\"]"), "\(inspected.stdout)")
        #expect(inspected.stdout.contains("\"8080/tcp\""), "\(inspected.stdout)")
        let history = try fixture.docker(["history", "--no-trunc", "--format", "{{.Comment}}|{{.CreatedBy}}", "local/committed:1"])
        #expect(history.stdout.hasPrefix("a greeting|sh -c mkdir -p /srv"), "\(history.stdout)")
        let baseLayers = try fixture.docker(["image", "inspect", "-f", "{{len .RootFS.Layers}}", Self.image]).stdout
        let layers = try fixture.docker(["image", "inspect", "-f", "{{len .RootFS.Layers}}", "local/committed:1"]).stdout
        #expect(Int(layers.trimmingCharacters(in: .whitespacesAndNewlines)) == Int(baseLayers.trimmingCharacters(in: .whitespacesAndNewlines)).map { $0 + 1 })

        // A running container is paused for the commit and runs on; nothing changed: no layer.
        #expect(try fixture.docker(["run", "-d", "--name", "idle", "--network", "none", Self.image, "sleep", "300"]).status == 0)
        let idle = try fixture.docker(["commit", "idle", "local/idle"])
        #expect(idle.status == 0, "\(idle.stderr)")
        #expect(try fixture.docker(["inspect", "-f", "{{.State.Status}}", "idle"]).stdout == "running\n")
        #expect(try fixture.docker(["image", "inspect", "-f", "{{len .RootFS.Layers}}", "local/idle:latest"]).stdout == baseLayers)
        #expect(try fixture.docker(["image", "inspect", "-f", "{{json .Config.Cmd}}", "local/idle"]).stdout == "[\"sleep\",\"300\"]\n")
        let now = String(Int(Date().timeIntervalSince1970) + 1)
        let events = try fixture.docker(["events", "--since", "0", "--until", now, "--filter", "container=idle",
                                         "--format", "{{.Action}}"])
        let actions = events.stdout.split(separator: "\n").map(String.init)
        #expect(actions.suffix(3) == ["pause", "commit", "unpause"], "\(actions)")

        // caisson commit on the same engine, untagged.
        let plain = try fixture.caisson("commit", ["--pause=false", "-c", "LABEL via=cli", "box"])
        #expect(plain.status == 0 && plain.stdout.hasPrefix("sha256:"), "\(plain.stdout) \(plain.stderr)")
        let id = plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try fixture.docker(["image", "inspect", "-f", "{{.Config.Labels.via}} {{len .RepoTags}}", id]).stdout == "cli 0\n")

        // Mistakes, named as dockerd names them.
        let run = try fixture.docker(["commit", "-c", "RUN true", "box"])
        #expect(run.status != 0 && run.stderr.contains("run is not a valid change command"), "\(run.stderr)")
        let missing = try fixture.docker(["commit", "nosuch"])
        #expect(missing.status != 0 && missing.stderr.contains("No such container: nosuch"), "\(missing.stderr)")
        let upper = try fixture.docker(["commit", "box", "Local/Upper"])
        #expect(upper.status != 0 && upper.stderr.contains("invalid reference format"), "\(upper.stderr)")
        let cli = try fixture.caisson("commit", ["-c", "COPY a b", "box"])
        #expect(cli.status == 125 && cli.stderr.contains("copy is not a valid change command"), "\(cli.stderr)")
        #expect(try fixture.docker(["rm", "-f", "box", "idle"]).status == 0)
    }

    /// Config as dockerd shows it for a container: the image's settings under the given
    /// ones; an empty entrypoint clears the image's and needs a command.
    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func mergedConfigAndEmptyEntrypoint() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["create", "--name", "base", "--network", "none", Self.image, "true"]).status == 0)
        let image = try fixture.docker(["commit", "-c", "CMD [\"echo\", \"from-image\"]", "-c", "ENV IMG=1", "base", "local/withcmd"])
        #expect(image.status == 0, "\(image.stderr)")
        #expect(try fixture.docker(["create", "--name", "plain", "--network", "none", "-e", "A=1", "local/withcmd"]).status == 0)
        let config = try fixture.docker(["inspect", "-f", "{{json .Config.Cmd}} {{json .Config.Env}} {{json .Config.Entrypoint}}", "plain"])
        #expect(config.stdout == "[\"echo\",\"from-image\"] [\"A=1\",\"IMG=1\"] null\n", "\(config.stdout)")
        // An empty entrypoint drops the image's command too (dockerd: "No command specified").
        let reset = try fixture.docker(["run", "--rm", "--network", "none", "--entrypoint", "", "local/withcmd"])
        #expect(reset.status == 125 && reset.stderr.lowercased().contains("no command specified"), "\(reset.stdout) \(reset.stderr)")
        let given = try fixture.docker(["run", "--rm", "--network", "none", "--entrypoint", "", "local/withcmd", "echo", "given"])
        #expect(given.status == 0 && given.stdout == "given\n", "\(given.stdout) \(given.stderr)")
        // The primary group is among the process's groups, as dockerd sets them.
        let groups = try fixture.docker(["run", "--rm", "--network", "none", "-u", "nobody", Self.image, "grep", "Groups", "/proc/self/status"])
        #expect(groups.status == 0, "\(groups.stderr)")
        let gid = try fixture.docker(["run", "--rm", "--network", "none", "-u", "nobody", Self.image, "id", "-g"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(groups.stdout.split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "\n" }).contains(Substring(gid)), "\(groups.stdout)")
        // exec -w a directory the container lacks: runc's words and 126.
        #expect(try fixture.docker(["run", "-d", "--name", "live", "--network", "none", Self.image, "sleep", "300"]).status == 0)
        let workdir = try fixture.docker(["exec", "-w", "/nowhere", "live", "true"])
        #expect(workdir.status == 126 && workdir.stdout.contains("chdir to cwd (\"/nowhere\") set in config.json failed: no such file or directory"),
                "\(workdir.status) \(workdir.stdout) \(workdir.stderr)")
        let relative = try fixture.docker(["exec", "-w", "rel", "live", "pwd"])
        #expect(relative.status != 0 && (relative.stdout + relative.stderr).contains("absolute path"), "\(relative.stdout) \(relative.stderr)")
        // --group-add: the primary group, then the added one (busybox's id -G as under dockerd).
        #expect(try fixture.docker(["run", "--rm", "--network", "none", "--group-add", "1234", Self.image, "id", "-G"]).stdout == "0 1234\n")
        #expect(try fixture.docker(["run", "--rm", "--network", "none", "-u", "nobody", Self.image, "id"]).stdout
                == "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n")
        #expect(try fixture.docker(["rm", "-f", "base", "plain", "live"]).status == 0)
    }
}
