import Foundation
import Testing

/// The everyday commands end to end, with caisson-runtime and with runc: the same tests.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ContainerTests {
    static let runtimes = ["caisson-runtime"] + (EngineFixture.runcAvailable ? ["runc"] : [])

    @Test("run: output, exit status, environment, user, working directory; --rm leaves nothing", arguments: runtimes)
    func runBasics(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        var leftovers: [String] = []
        defer { leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let ran = try engine.runContainer(["--rm", "-e", "GREETING=hi", "-u", "user", "-w", "/tmp", EngineFixture.image,
                                           "sh", "-c", "echo $GREETING; id -u; pwd; echo oops >&2; exit 3"])
        #expect(ran.status == 3)
        #expect(ran.stdout == "hi\n1000\n/tmp\n")
        #expect(ran.stderr == "oops\n")
        #expect(try engine.run(["ps", "-a", "-q"]).stdout.isEmpty)
        let netns = (try? FileManager.default.contentsOfDirectory(atPath: engine.runRoot + "/netns")) ?? []
        #expect(netns.isEmpty)
        let piped = try engine.runContainer(["--rm", "-i", EngineFixture.image, "cat"], stdin: "through stdin\n")
        #expect(piped.stdout == "through stdin\n")
        // With a terminal (script(1) gives the CLI one).
        let command = [EngineFixture.binary, "run", "--root", engine.root, "--runroot", engine.runRoot, "--runtime", runtime,
                       "--rm", "-t", EngineFixture.image, "sh", "-c", "'tty; exit 5'"].joined(separator: " ")
        let terminal = try Shell.run("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(terminal.stdout.contains("/dev/pts/0"), "\(terminal.stdout) \(terminal.stderr)")
        #expect(terminal.status == 5)
        // --rm still happens when the CLI that was attached is killed once the container runs: the monitor does it.
        // (Killed before the start, as docker's CLI would be, it leaves a created container.)
        let caisson = "\(EngineFixture.binary) --root \(engine.root) --runroot \(engine.runRoot)"
        let killed = try Shell.run("/bin/sh", ["-c", """
            \(EngineFixture.binary) run --root \(engine.root) --runroot \(engine.runRoot) --runtime \(runtime) --rm \(EngineFixture.image) sleep 2 &
            cli=$!
            for i in $(seq 200); do [ -n "$(\(caisson) ps -q --filter status=running)" ] && break; sleep 0.1; done
            kill -9 $cli
            """])
        #expect(killed.status == 0)
        // The container ends two seconds after it started; on a loaded machine the monitor's removal may take a
        // while longer, so the test waits for the outcome rather than for a fixed time.
        var remaining = try engine.run(["ps", "-a", "-q"]).stdout
        for _ in 0..<200 where !remaining.isEmpty {
            usleep(100_000)
            remaining = try engine.run(["ps", "-a", "-q"]).stdout
        }
        #expect(remaining.isEmpty, "the monitor removed the container")
        // The options every command takes may come before the command, as podman takes them.
        let leading = try Shell.run(EngineFixture.binary, ["--root", engine.root, "--runroot=" + engine.runRoot, "images", "-q"])
        #expect(leading.status == 0 && !leading.stdout.isEmpty, "\(leading.stderr)")
        let grouped = try Shell.run(EngineFixture.binary, ["--root", engine.root, "--runroot", engine.runRoot, "volume", "ls", "-q"])
        #expect(grouped.status == 0 && grouped.stdout.isEmpty, "\(grouped.stderr)")
    }

    @Test("a container whose create was cut short (recorded, no spec, no root filesystem mounted) starts all the same")
    func interruptedCreateIsFinishedByStart() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        #expect(try engine.run(["create", "--name", "half", EngineFixture.image, "echo", "finished"]).status == 0)
        let id = try engine.run(["inspect", "--format", "{{.Id}}", "half"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // What a create killed between its record and its spec leaves (the crash tests kill it there too).
        let bundle = engine.root + "/containers/" + id + "/bundle"
        #expect(try Shell.run("/bin/umount", [bundle + "/rootfs"]).status == 0)
        try FileManager.default.removeItem(atPath: bundle + "/config.json")
        let started = try engine.run(["start", "-a", "half"])
        #expect(started.status == 0 && started.stdout == "finished\n", "\(started.stderr)")
        #expect(try engine.run(["inspect", "--format", "{{.Path}} {{.Args}}", "half"]).stdout == "echo [finished]\n")
    }

    @Test("a busybox httpd published on a host port answers from the host; a peer reaches it by name", arguments: runtimes)
    func publishedPortAndNames(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        #expect(try engine.run(["network", "create", "appnet"]).status == 0)
        let port = 20000 + Int.random(in: 0..<20000)
        let started = try engine.runContainer(["-d", "--name", "web", "--network", "appnet", "-p", "\(port):80",
                                               EngineFixture.image, "httpd", "-f", "-p", "80", "-h", "/"])
        #expect(started.status == 0, "\(started.stderr)")
        var body: String?
        for _ in 0..<50 where body == nil {
            body = try httpGet("http://127.0.0.1:\(port)/index.html")
            if body == nil { usleep(100_000) }
        }
        #expect(body == "<h1>caisson</h1>\n")
        let peer = try engine.runContainer(["--rm", "--network", "appnet", EngineFixture.image, "wget", "-q", "-O", "-", "http://web/index.html"])
        #expect(peer.stdout == "<h1>caisson</h1>\n", "\(peer.stderr)")
        let ps = try engine.run(["ps", "--format", "{{.Names}} {{.Ports}} {{.State}}"])
        #expect(ps.stdout == "web 0.0.0.0:\(port)->80/tcp running\n")
        let portOutput = try engine.run(["port", "web"])
        #expect(portOutput.stdout == "80/tcp -> 0.0.0.0:\(port)\n")
        // The port is taken now.
        let clash = try engine.runContainer(["-d", "-p", "\(port):80", EngineFixture.image, "sleep", "5"])
        #expect(clash.status == 125)
        #expect(clash.stderr.contains("port is already allocated"), "\(clash.stderr)")
        let inUse = try engine.run(["network", "rm", "appnet"])
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains("active endpoints"))
    }

    @Test("network connect gives a running container a further network (names resolve), disconnect takes it away, a restart keeps it")
    func networkConnectAndDisconnect() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        #expect(try engine.run(["network", "create", "front"]).status == 0)
        #expect(try engine.run(["network", "create", "back"]).status == 0)
        #expect(try engine.runContainer(["-d", "--name", "web", "--network", "front", EngineFixture.image,
                                         "httpd", "-f", "-p", "80", "-h", "/"]).status == 0)
        #expect(try engine.runContainer(["-d", "--name", "client", "--network", "back", EngineFixture.image, "sleep", "300"]).status == 0)
        let fetch = ["exec", "client", "wget", "-q", "-O", "-", "http://web/index.html"]
        #expect(try engine.run(fetch).status != 0, "web is not reachable from the back network")
        let connected = try engine.run(["network", "connect", "front", "client"])
        #expect(connected.status == 0, "\(connected.stderr)")
        #expect(try engine.run(fetch).stdout == "<h1>caisson</h1>\n")
        let networks = try engine.run(["inspect", "--format", "{{json .NetworkSettings.Networks}}", "client"]).stdout
        #expect(networks.contains("\"back\"") && networks.contains("\"front\""), "\(networks)")
        let again = try engine.run(["network", "connect", "front", "client"])
        #expect(again.status != 0 && again.stderr.contains("already exists in network front"))
        #expect(try engine.run(["network", "rm", "front"]).stderr.contains("active endpoints"))
        // A restart attaches it again.
        #expect(try engine.run(["restart", "-t", "1", "client"]).status == 0)
        #expect(try engine.run(fetch).stdout == "<h1>caisson</h1>\n")
        let disconnected = try engine.run(["network", "disconnect", "front", "client"])
        #expect(disconnected.status == 0, "\(disconnected.stderr)")
        #expect(try engine.run(fetch).status != 0)
        let primary = try engine.run(["network", "disconnect", "back", "client"])
        #expect(primary.status != 0 && primary.stderr.contains("cannot leave it"))

        // docker's network events: each exit disconnects the networks the container is on
        // then, those connected or disconnected while it ran included.
        let addresses = ["inspect", "--format",
                         "{{.NetworkSettings.IPAddress}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}}{{$v.EndpointID}},{{end}}"]
        #expect(try engine.run(addresses + ["client"]).stdout.hasPrefix("10."))
        #expect(try engine.run(["stop", "-t", "1", "client"]).status == 0)
        // Stopped, it shows what dockerd shows once it has released its endpoints: no addresses.
        #expect(try engine.run(addresses + ["client"]).stdout == "|back=,\n")
        let id = try engine.run(["inspect", "--format", "{{.Id}}", "client"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let expected = ["connect back", "connect front", "disconnect back", "disconnect front",
                        "connect back", "connect front", "disconnect front", "disconnect back"]
        var seen: [String] = []
        for _ in 0..<20 {
            let events = try engine.run(["events", "--since", "10m", "--until", "0s", "--filter", "type=network",
                                         "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}"])
            seen = events.stdout.split(separator: "\n").filter { $0.hasSuffix(" " + id) }.map { String($0.dropLast(id.count + 1)) }
            if seen.count >= expected.count { break }
            usleep(100_000)
        }
        #expect(seen == expected)
    }

    @Test("a container whose monitor was SIGKILLed is ended, shown as Exited (255) with its time and a die event, and starts again")
    func lostMonitor() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let run = try engine.runContainer(["-d", "--name", "orphan", EngineFixture.image, "sleep", "300"])
        #expect(run.status == 0, "\(run.stderr)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try engine.run(["inspect", "--format", "{{.State.Pid}}", "orphan"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let monitor = try #require(Int32(try String(contentsOfFile: engine.root + "/containers/\(id)/monitor.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(monitor, SIGKILL) == 0)
        var gone = false
        for _ in 0..<100 where !gone {
            gone = kill(monitor, 0) != 0 || ((try? String(contentsOfFile: "/proc/\(monitor)/stat", encoding: .utf8))?.contains(") Z ") ?? true)
            if !gone { usleep(20_000) }
        }
        #expect(try engine.run(["ps", "-a", "--format", "{{.Status}}"]).stdout.hasPrefix("Exited (255) Less than a second ago"))
        let state = try engine.run(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{.State.FinishedAt}}", "orphan"]).stdout
        #expect(state.hasPrefix("exited 255 2"), "\(state)")
        // Its processes are ended and its runtime state gone: no orphan, and a start works.
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)/cmdline")
                || ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").hasPrefix("sleep") == false)
        #expect(try engine.run(["start", "orphan"]).status == 0)
        #expect(try engine.run(["inspect", "--format", "{{.State.Status}}", "orphan"]).stdout == "running\n")
        let events = try engine.run(["events", "--since", "5m", "--until", "0s", "--filter", "event=die", "--format", "{{.Actor.Attributes.exitCode}}"])
        #expect(events.stdout == "255\n", "\(events.stdout)")
        #expect(try engine.run(["rm", "-f", "orphan"]).status == 0)
    }

    @Test("a named volume keeps data across containers; bind mounts and tmpfs work", arguments: runtimes)
    func volumes(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        #expect(try engine.runContainer(["--rm", "-v", "data:/data", EngineFixture.image, "sh", "-c", "echo kept > /data/file"]).status == 0)
        let read = try engine.runContainer(["--rm", "-v", "data:/data:ro", EngineFixture.image, "sh", "-c", "cat /data/file; echo x > /data/y"])
        #expect(read.stdout == "kept\n")
        #expect(read.status != 0, "read-only volume")
        let host = try Scratch.directory("bind")
        try "from host\n".write(toFile: host + "/f", atomically: true, encoding: .utf8)
        let bound = try engine.runContainer(["--rm", "-v", "\(host):/host", "--tmpfs", "/scratch", EngineFixture.image,
                                             "sh", "-c", "cat /host/f; echo back > /host/g; echo t > /scratch/t && cat /scratch/t"])
        #expect(bound.stdout == "from host\nt\n", "\(bound.stderr)")
        #expect((try? String(contentsOfFile: host + "/g", encoding: .utf8)) == "back\n")
        #expect(try engine.run(["volume", "ls", "-q"]).stdout == "data\n")
        // A new volume starts with what the image has at its path.
        let seeded = try engine.runContainer(["--rm", "-v", "binaries:/bin", EngineFixture.image, "ls", "/bin/busybox"])
        #expect(seeded.stdout == "/bin/busybox\n", "\(seeded.stderr)")
        let inspect = try engine.run(["volume", "inspect", "data"])
        #expect(inspect.stdout.contains("\"Mountpoint\": \"\(engine.root)/volumes/data/_data\""))
    }

    @Test("logs: -f follows until the container ends, --tail, -t; a detached container outlives the CLI", arguments: runtimes)
    func logsAndDetach(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let started = try engine.runContainer(["-d", "--name", "talker", EngineFixture.image, "sh", "-c",
                                               "for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done; echo bye >&2"])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(started.stdout.count == 65)
        // The CLI that started it is gone; the container runs on under its monitor.
        let running = try engine.run(["ps", "--format", "{{.Names}} {{.State}}"])
        #expect(running.stdout == "talker running\n")
        let followed = try engine.run(["logs", "-f", "talker"], timeout: 20)
        #expect(followed.stdout == "line 1\nline 2\nline 3\nline 4\nline 5\n")
        #expect(followed.stderr == "bye\n")
        // --tail counts lines of both streams, as docker's does.
        let tail = try engine.run(["logs", "--tail", "2", "talker"])
        #expect(tail.stdout == "line 5\n")
        #expect(tail.stderr == "bye\n")
        let stamped = try engine.run(["logs", "-t", "--tail", "2", "talker"])
        #expect(stamped.stdout.hasSuffix("Z line 5\n") && stamped.stdout.hasPrefix("20"))
        #expect(try engine.run(["wait", "talker"]).stdout == "0\n")
        let status = try engine.run(["ps", "-a", "--format", "{{.Status}}"])
        #expect(status.stdout.hasPrefix("Exited (0)"))
        let inspected = try engine.run(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}", "talker"])
        #expect(inspected.stdout == "exited 0 /talker\n")
    }

    @Test("exec: output and status, a terminal with -t, docker's 126/127, refused when stopped", arguments: runtimes)
    func exec(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        #expect(try engine.runContainer(["-d", "--name", "box", EngineFixture.image, "sleep", "60"]).status == 0)
        let plain = try engine.run(["exec", "box", "sh", "-c", "echo inside; exit 4"])
        #expect(plain.status == 4)
        #expect(plain.stdout == "inside\n")
        let command = [EngineFixture.binary, "exec", "--root", engine.root, "--runroot", engine.runRoot, "-it", "box", "tty"].joined(separator: " ")
        let tty = try Shell.run("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(tty.stdout.contains("/dev/pts/"), "\(tty.stdout) \(tty.stderr)")
        let missing = try engine.run(["exec", "box", "no-such-command"])
        #expect(missing.status == 127)
        let notExecutable = try engine.run(["exec", "box", "/index.html"])
        #expect(notExecutable.status == 126)
        #expect(try engine.run(["stop", "-t", "1", "box"]).status == 0)
        let stopped = try engine.run(["exec", "box", "true"])
        #expect(stopped.status == 125)
        #expect(stopped.stderr.contains("is not running"))
    }

    @Test("stop: SIGTERM, then SIGKILL after -t; a container that honours SIGTERM stops at once", arguments: runtimes)
    func stopTimeout(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        #expect(try engine.runContainer(["-d", "--name", "stubborn", EngineFixture.image, "sh", "-c", "trap '' TERM; sleep 60 & wait"]).status == 0)
        #expect(try engine.runContainer(["-d", "--name", "polite", "--init", EngineFixture.image, "sleep", "60"]).status == 0)
        let start = Date()
        #expect(try engine.run(["stop", "-t", "2", "stubborn"]).status == 0)
        let waited = Date().timeIntervalSince(start)
        #expect(waited >= 1.8 && waited < 8, "stop took \(waited) s")
        #expect(try engine.run(["inspect", "--format", "{{.State.ExitCode}}", "stubborn"]).stdout == "137\n")
        let quick = Date()
        #expect(try engine.run(["stop", "-t", "10", "polite"]).status == 0)
        #expect(Date().timeIntervalSince(quick) < 5)
        #expect(try engine.run(["inspect", "--format", "{{.State.ExitCode}}", "polite"]).stdout == "143\n")
    }

    @Test("restart policies: always brings a container back, on-failure:N stops after N, stop ends it", arguments: runtimes)
    func restartPolicies(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        #expect(try engine.runContainer(["-d", "--name", "phoenix", "--restart", "always", EngineFixture.image, "sh", "-c", "sleep 0.2; exit 1"]).status == 0)
        #expect(try engine.runContainer(["-d", "--name", "twice", "--restart", "on-failure:2", EngineFixture.image, "sh", "-c", "echo try; exit 2"]).status == 0)
        var restarts = 0
        for _ in 0..<100 where restarts < 2 {
            usleep(100_000)
            restarts = Int(try engine.run(["inspect", "--format", "{{.RestartCount}}", "phoenix"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        #expect(restarts >= 2)
        #expect(try engine.run(["stop", "-t", "1", "phoenix"]).status == 0)
        #expect(try engine.run(["inspect", "--format", "{{.State.Status}}", "phoenix"]).stdout == "exited\n")
        #expect(try engine.run(["wait", "twice"]).stdout == "2\n")
        #expect(try engine.run(["logs", "twice"]).stdout == "try\ntry\ntry\n")
        #expect(try engine.run(["inspect", "--format", "{{.RestartCount}}", "twice"]).stdout == "2\n")
    }

    @Test("docker's errors and exit codes for mistakes")
    func mistakes() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let badFlag = try engine.run(["run", "--memory", "lots", EngineFixture.image])
        #expect(badFlag.status == 125)
        #expect(badFlag.stderr.contains("invalid --memory"))
        let unknownFlag = try engine.run(["run", "--no-such-flag", EngineFixture.image])
        #expect(unknownFlag.status == 125)
        let noImage = try engine.run(["run", "--pull", "never", "localhost/nothing:here"])
        #expect(noImage.status == 125)
        #expect(noImage.stderr.contains("No such image"))
        let notFound = try engine.runContainer(["--rm", EngineFixture.image, "no-such-program"])
        #expect(notFound.status == 127, "\(notFound.stderr)")
        let notExecutable = try engine.runContainer(["--rm", EngineFixture.image, "/index.html"])
        #expect(notExecutable.status == 126, "\(notExecutable.stderr)")
        #expect(try engine.runContainer(["-d", "--name", "taken", EngineFixture.image, "sleep", "30"]).status == 0)
        let clash = try engine.runContainer(["-d", "--name", "taken", EngineFixture.image, "true"])
        #expect(clash.status == 125)
        #expect(clash.stderr.contains("The container name \"/taken\" is already in use"))
        let running = try engine.run(["rm", "taken"])
        #expect(running.status == 1)
        #expect(running.stderr.contains("container is running"))
        let none = try engine.run(["stop", "nobody"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("No such container: nobody"))
        let inUse = try engine.run(["rmi", EngineFixture.image])
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains("(must force) - container ") && inUse.stderr.contains(" is using its referenced image"),
                "\(inUse.stderr)")
        let badRestart = try engine.run(["run", "--restart", "sometimes", EngineFixture.image])
        #expect(badRestart.status == 125)
        #expect(try engine.run(["ps", "-a", "-q"]).stdout.split(separator: "\n").count == 1, "failed runs leave no container")
    }

    @Test("ps shows docker's columns; --format, -q, --filter; pause, unpause, rename, inspect")
    func listing() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        #expect(try engine.runContainer(["-d", "--name", "one", "-l", "team=a", EngineFixture.image, "sleep", "60"]).status == 0)
        #expect(try engine.run(["create", "--name", "two", EngineFixture.image, "true"]).status == 0)
        let table = try engine.run(["ps", "-a"])
        let header = table.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.split(separator: " ", omittingEmptySubsequences: true)
            == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"])
        #expect(table.stdout.contains("\"sleep 60\""))
        #expect(try engine.run(["ps", "--format", "{{.Names}}"]).stdout == "one\n")
        #expect(try engine.run(["ps", "-a", "--filter", "status=created", "--format", "{{.Names}}"]).stdout == "two\n")
        #expect(try engine.run(["ps", "-a", "--filter", "label=team=a", "-q"]).stdout.count == 13)
        #expect(try engine.run(["pause", "one"]).status == 0)
        #expect(try engine.run(["ps", "--format", "{{.Status}}"]).stdout.hasSuffix("(Paused)\n"))
        #expect(try engine.run(["unpause", "one"]).status == 0)
        #expect(try engine.run(["rename", "one", "uno"]).status == 0)
        #expect(try engine.run(["inspect", "--format", "{{.Name}} {{.State.Running}} {{.Config.Labels.team}}", "uno"]).stdout == "/uno true a\n")
        #expect(try engine.run(["start", "two"]).status == 0)
        #expect(try engine.run(["wait", "two"]).stdout == "0\n")
        let top = try engine.run(["top", "uno"])
        #expect(top.stdout.contains("sleep"))
        let events = try engine.run(["events", "--since", "10m", "--until", "0s", "--filter", "type=container",
                                     "--format", "{{.Action}} {{.Actor.Attributes.name}}"])
        #expect(events.stdout.contains("create one\nstart one\n"), "\(events.stdout)")
        #expect(events.stdout.contains("pause one\nunpause one\nrename uno\n"))
        #expect(events.stdout.contains("die "), "the monitor reports exits")
    }

    @Test("a default seccomp profile withholds unshare, mount and keyrings; unconfined, privileged or the capability give them back", arguments: runtimes)
    func defaultSeccomp(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let confined = try engine.runContainer(["--rm", EngineFixture.image, "sh", "-c", "unshare -U true && echo ALLOWED || echo DENIED"])
        #expect(confined.stdout == "DENIED\n", "\(confined.stderr)")
        let unconfined = try engine.runContainer(["--rm", "--security-opt", "seccomp=unconfined", EngineFixture.image,
                                                  "sh", "-c", "unshare -U true && echo ALLOWED || echo DENIED"])
        #expect(unconfined.stdout == "ALLOWED\n", "\(unconfined.stderr)")
        let withCapability = try engine.runContainer(["--rm", "--cap-add", "SYS_ADMIN", EngineFixture.image,
                                                      "sh", "-c", "unshare -U true && echo ALLOWED || echo DENIED"])
        #expect(withCapability.stdout == "ALLOWED\n", "\(withCapability.stderr)")
    }

    @Test("cp both ways (contained in the container's root), stats --no-stream, attach to a running container")
    func copyStatsAttach() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        #expect(try engine.runContainer(["-d", "--name", "box", "-m", "64m", EngineFixture.image, "sh", "-c",
                                         "mkdir -p /srv/data && echo inside > /srv/data/f && ln -s / /srv/escape && sleep 60"]).status == 0)
        usleep(300_000)
        let host = try Scratch.directory("cp")
        #expect(try engine.run(["cp", "box:/srv/data", host]).status == 0)
        #expect((try? String(contentsOfFile: host + "/data/f", encoding: .utf8)) == "inside\n")
        try "from host\n".write(toFile: host + "/up.txt", atomically: true, encoding: .utf8)
        #expect(try engine.run(["cp", host + "/up.txt", "box:/srv/data/"]).status == 0)
        #expect(try engine.run(["exec", "box", "cat", "/srv/data/up.txt"]).stdout == "from host\n")
        // Through a symlink that points at / the copy still lands inside the container.
        #expect(try engine.run(["cp", host + "/up.txt", "box:/srv/escape/tmp/"]).status == 0)
        #expect(try engine.run(["exec", "box", "cat", "/tmp/up.txt"]).stdout == "from host\n")
        // export: the container's filesystem with its changes, importable as an image.
        let exported = try Scratch.directory("export") + "/box.tar"
        #expect(try engine.run(["export", "-o", exported, "box"]).status == 0)
        #expect(try engine.run(["import", exported, "localhost/exported:1"]).status == 0)
        let fromExport = try engine.runContainer(["--rm", "localhost/exported:1", "cat", "/srv/data/f", "/srv/data/up.txt"])
        #expect(fromExport.stdout == "inside\nfrom host\n", "\(fromExport.stderr)")
        let stats = try engine.run(["stats", "--no-stream", "box"])
        #expect(stats.stdout.contains("MEM USAGE / LIMIT"))
        #expect(stats.stdout.contains("/ 64.00MiB"), "\(stats.stdout)")
        let attached = try Shell.run("/bin/sh", ["-c", "(sleep 1; \(EngineFixture.binary) kill --root \(engine.root) --runroot \(engine.runRoot) box) & \(EngineFixture.binary) attach --root \(engine.root) --runroot \(engine.runRoot) --no-stdin box"])
        #expect(attached.status == 137, "\(attached.stderr)")
    }
}
