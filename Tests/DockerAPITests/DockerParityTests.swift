import Foundation
import Testing

/// What a side-by-side run of the docker CLI against dockerd 20.10 and caissond showed
/// to differ, now as dockerd does it: `ps` filters (all of docker's, regular expressions
/// for name and id, stopped containers only with --all or a status filter), `rmi` under
/// containers that use the image, `volume prune` sparing named volumes.
@Suite(.serialized)
struct DockerParityTests {
    static let image = DockerDaemonFixture.image

    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func psFilters() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        func names(_ arguments: [String]) throws -> String {
            let listed = try fixture.docker(["ps"] + arguments + ["--format", "{{.Names}}"])
            #expect(listed.status == 0, "\(arguments): \(listed.stderr)")
            return listed.stdout.split(separator: "\n").sorted().joined(separator: " ")
        }
        #expect(try fixture.docker(["run", "-d", "--name", "web", "--network", "none", "--expose", "90", "-v", "data:/data",
                                    "--label", "tier=front", Self.image, "sleep", "300"]).status == 0)
        #expect(try fixture.docker(["run", "--name", "done0", "--network", "none", Self.image, "true"]).status == 0)
        #expect(try fixture.docker(["run", "--name", "done3", "--network", "none", Self.image, "sh", "-c", "exit 3"]).status == 3)
        #expect(try fixture.docker(["create", "--name", "fresh", "--network", "none", Self.image, "true"]).status == 0)

        // Without -a only running containers, whatever else is filtered on.
        #expect(try names(["--filter", "name=e"]) == "web")
        #expect(try names(["--filter", "label=tier"]) == "web")
        #expect(try names(["-a", "--filter", "name=e"]) == "done0 done3 fresh web")
        // name and id are regular expressions over /NAME and the full id.
        #expect(try names(["-a", "--filter", "name=^/d"]) == "done0 done3")
        #expect(try names(["-a", "--filter", "name=[0-9]$"]) == "done0 done3")
        let id = try fixture.docker(["inspect", "-f", "{{.Id}}", "web"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try names(["-a", "--filter", "id=" + String(id.dropFirst(20).prefix(10))]) == "web")
        // A status filter shows stopped containers without -a; exited= needs them.
        #expect(try names(["--filter", "status=exited"]) == "done0 done3")
        #expect(try names(["--filter", "status=created"]) == "fresh")
        #expect(try names(["-a", "--filter", "exited=3"]) == "done3")
        #expect(try names(["-a", "--filter", "exited=0"]) == "done0")
        // Images, other containers, volumes, networks, ports.
        #expect(try names(["-a", "--filter", "ancestor=" + Self.image]) == "done0 done3 fresh web")
        #expect(try names(["-a", "--filter", "ancestor=local/nosuch:9"]).isEmpty)
        #expect(try names(["-a", "--filter", "before=done3"]) == "done0 web")
        #expect(try names(["-a", "--filter", "since=done0"]) == "done3 fresh")
        #expect(try names(["--filter", "volume=data"]) == "web")
        #expect(try names(["--filter", "volume=/data"]) == "web")
        #expect(try names(["--filter", "expose=90"]) == "web")
        #expect(try names(["--filter", "expose=80-100/tcp"]) == "web")
        #expect(try names(["--filter", "expose=90/udp"]).isEmpty)
        #expect(try names(["-a", "--filter", "network=none"]) == "done0 done3 fresh web")
        #expect(try names(["-a", "--filter", "is-task=true"]).isEmpty)
        // Mistakes, named.
        let status = try fixture.docker(["ps", "--filter", "status=bogus"])
        #expect(status.status != 0 && status.stderr.contains("invalid filter 'status=bogus'"), "\(status.stderr)")
        let unknown = try fixture.docker(["ps", "--filter", "colour=red"])
        #expect(unknown.status != 0 && unknown.stderr.contains("invalid filter 'colour'"), "\(unknown.stderr)")
        let before = try fixture.docker(["ps", "--filter", "before=nosuch"])
        #expect(before.status != 0 && before.stderr.contains("No such container: nosuch"), "\(before.stderr)")
        // Columns as dockerd fills them: exposed ports, the network mode as the network.
        #expect(try fixture.docker(["ps", "--filter", "name=web", "--format", "{{.Ports}} {{.Networks}}"]).stdout == "90/tcp none\n")
        // Mistakes dockerd names: a second pause, a rename to the same name, more CPUs than the machine has.
        #expect(try fixture.docker(["pause", "web"]).status == 0)
        let again = try fixture.docker(["pause", "web"])
        #expect(again.status != 0 && again.stderr.contains("is already paused"), "\(again.stderr)")
        #expect(try fixture.docker(["unpause", "web"]).status == 0)
        let same = try fixture.docker(["rename", "web", "web"])
        #expect(same.status != 0 && same.stderr.contains("Renaming a container with the same name as its current name"), "\(same.stderr)")
        let cpus = try fixture.docker(["create", "--network", "none", "--cpus", "1000", Self.image, "true"])
        #expect(cpus.status != 0 && cpus.stderr.contains("Range of CPUs is from 0.01 to"), "\(cpus.stderr)")
        let tmpfs = try fixture.docker(["run", "--rm", "--network", "none", "--tmpfs", "/t2", Self.image, "grep", " /t2 ", "/proc/mounts"])
        #expect(tmpfs.stdout.contains("noexec") && tmpfs.stdout.contains("nosuid"), "\(tmpfs.stdout) \(tmpfs.stderr)")
        // caisson ps filters the same way.
        let cli = try fixture.caisson("ps", ["--filter", "name=^/d", "--filter", "status=exited", "--format", "{{.Names}}"])
        #expect(cli.stdout.split(separator: "\n").sorted() == ["done0", "done3"], "\(cli.stdout) \(cli.stderr)")
        #expect(try fixture.caisson("ps", ["--filter", "name=e", "--format", "{{.Names}}"]).stdout == "web\n")
    }

    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func logsWindowAndCommand() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["run", "-d", "--name", "talker", "--network", "none", Self.image,
                                    "sh", "-c", "echo one; sleep 1; echo two; sleep 300"]).status == 0)
        var stamped = ""
        for _ in 0..<100 where !stamped.contains("two") {
            usleep(100_000)
            stamped = try fixture.docker(["logs", "-t", "talker"]).stdout
        }
        let lines = stamped.split(separator: "\n")
        #expect(lines.count == 2, "\(stamped)")
        let second = String(lines.last?.split(separator: " ").first ?? "")
        // Since and until as the CLI sends them (seconds since the epoch, with nanoseconds).
        #expect(try fixture.docker(["logs", "--since", second, "talker"]).stdout == "two\n")
        #expect(try fixture.docker(["logs", "--until", second, "talker"]).stdout == "one\n")
        #expect(try fixture.docker(["logs", "--details", "talker"]).stdout == " one\n two\n")
        #expect(try fixture.docker(["logs", "--tail", "many", "talker"]).stdout == "one\ntwo\n")
        #expect(try fixture.caisson("logs", ["--until", second, "talker"]).stdout == "one\n")
        // A followed log ends at --until.
        let soon = ISO8601DateFormatter().string(from: Date().addingTimeInterval(2))
        let followed = try fixture.docker(["logs", "-f", "--until", soon, "talker"], timeout: 20)
        #expect(followed.status == 0 && followed.stdout == "one\ntwo\n", "\(followed.stdout) \(followed.stderr)")
        // The environment dockerd gives: HOSTNAME in run and exec, the exec user's HOME.
        let hostname = try fixture.docker(["exec", "talker", "sh", "-c", "echo $HOSTNAME; hostname"]).stdout.split(separator: "\n")
        #expect(hostname.count == 2 && hostname[0] == hostname[1], "\(hostname)")
        #expect(try fixture.docker(["run", "--rm", "--network", "none", "--hostname", "named", Self.image, "sh", "-c", "echo $HOSTNAME"])
                    .stdout == "named\n")
        #expect(try fixture.docker(["run", "--rm", "--network", "none", "-e", "HOSTNAME=mine", Self.image, "sh", "-c", "echo $HOSTNAME"])
                    .stdout == "mine\n")
        #expect(try fixture.docker(["exec", "-u", "nobody", "talker", "sh", "-c", "echo $HOME"]).stdout == "/nonexistent\n")
        #expect(try fixture.docker(["exec", "-u", "nobody", "-e", "HOME=/tmp", "talker", "sh", "-c", "echo $HOME"]).stdout == "/tmp\n")
        #expect(try fixture.docker(["exec", "talker", "sh", "-c", "echo $HOME"]).stdout == "/root\n")
        // exec's events, as dockerd records them.
        let until = String(Int(Date().timeIntervalSince1970) + 1)
        let actions = try fixture.docker(["events", "--since", "0", "--until", until, "--filter", "container=talker",
                                          "--format", "{{.Action}}"]).stdout
        #expect(actions.contains("exec_create: sh -c echo $HOME") && actions.contains("exec_start: sh -c echo $HOME")
                && actions.contains("exec_die"), "\(actions)")
        // The command as docker lists it: arguments with spaces quoted.
        let command = try fixture.docker(["ps", "--no-trunc", "--format", "{{.Command}}"]).stdout
        #expect(command == "\"sh -c 'echo one; sleep 1; echo two; sleep 300'\"\n", "\(command)")
    }

    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func failedStartsAndPulls() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        // A command path that does not exist: 127, in runc's words, kept in State.
        let missing = try fixture.docker(["run", "--name", "lost", "--network", "none", Self.image, "/nonexist/dir"])
        #expect(missing.status == 127 && missing.stderr.contains("stat /nonexist/dir: no such file or directory"), "\(missing.stderr)")
        let state = try fixture.docker(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", "lost"]).stdout
        #expect(state.hasPrefix("created 127 ") && state.contains("no such file or directory"), "\(state)")
        let cli = try fixture.caisson("inspect", ["-f", "{{.State.ExitCode}}", "lost"]).stdout
        #expect(cli == "127\n", "\(cli)")
        // A later start that works clears them.
        #expect(try fixture.docker(["run", "--name", "fine", "--network", "none", Self.image, "true"]).status == 0)
        #expect(try fixture.docker(["inspect", "-f", "{{.State.ExitCode}}[{{.State.Error}}]", "fine"]).stdout == "0[]\n")
        // exec of a missing path: 127, named as docker does.
        #expect(try fixture.docker(["run", "-d", "--name", "box", "--network", "none", Self.image, "sleep", "300"]).status == 0)
        let exec = try fixture.docker(["exec", "box", "/nonexist"])
        #expect(exec.status == 127 && (exec.stdout + exec.stderr).contains("stat /nonexist: no such file or directory"),
                "\(exec.stdout) \(exec.stderr)")
        let user = try fixture.docker(["exec", "-u", "nosuch", "box", "true"])
        #expect(user.status == 126 && (user.stdout + user.stderr).contains("unable to find user nosuch: no matching entries in passwd file"),
                "\(user.stdout) \(user.stderr)")
        // A client attached to a container never started does not keep the daemon from
        // stopping (its handler is let go).
        #expect(try fixture.docker(["create", "--name", "idle", "--network", "none", Self.image, "true"]).status == 0)
        let holder = try BackgroundProcess("/usr/bin/python3", ["-c", """
            import socket, sys, time
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
            s.sendall(b'POST /v1.45/containers/idle/attach?stream=1&stdout=1 HTTP/1.1\\r\\nHost: d\\r\\nUpgrade: tcp\\r\\nConnection: Upgrade\\r\\n\\r\\n')
            s.recv(1000); time.sleep(60)
            """, fixture.socketPath], log: fixture.directory + "/holder.log")
        defer { holder.stop() }
        usleep(500_000)
        #expect(try fixture.restartDaemon() == 0, "\(fixture.daemonLog)")
        // A pull shows the tag asked for, not "latest".
        let pull = try fixture.docker(["pull", "localhost:1/local/nope:7"])
        #expect(pull.status != 0 && pull.stdout.contains("7: Pulling from localhost:1/local/nope"), "\(pull.stdout) \(pull.stderr)")
    }

    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func imageRemovalUnderContainers() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["tag", Self.image, "local/held:1"]).status == 0)
        #expect(try fixture.docker(["run", "-d", "--name", "holder", "--network", "none", "local/held:1", "sleep", "300"]).status == 0)
        let id = try fixture.docker(["image", "inspect", "-f", "{{.Id}}", "local/held:1"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let container = try fixture.docker(["inspect", "-f", "{{.Id}}", "holder"]).stdout.prefix(12)

        // By id: never under a running container, even forced.
        let byID = try fixture.docker(["rmi", "-f", String(id.dropFirst(7).prefix(12))])
        #expect(byID.status != 0 && byID.stderr.contains("(cannot be forced) - image is being used by running container \(container)"),
                "\(byID.stderr)")
        // Its last name: refused without -f naming the container; with -f the name goes, the image stays.
        #expect(try fixture.docker(["rmi", Self.image]).status == 0)
        let unforced = try fixture.docker(["rmi", "local/held:1"])
        #expect(unforced.status != 0 && unforced.stderr.contains("(must force) - container \(container) is using its referenced image"),
                "\(unforced.stderr)")
        let forced = try fixture.docker(["rmi", "-f", "local/held:1"])
        #expect(forced.status == 0 && forced.stdout.contains("Untagged: local/held:1") && !forced.stdout.contains("Deleted"),
                "\(forced.stdout) \(forced.stderr)")
        #expect(try fixture.docker(["image", "inspect", "-f", "{{.Id}}", id]).stdout.hasPrefix(id))
        #expect(try fixture.docker(["exec", "holder", "true"]).status == 0)

        // Stopped: by id only with -f.
        #expect(try fixture.docker(["stop", "-t", "0", "holder"]).status == 0)
        let stopped = try fixture.docker(["rmi", id])
        #expect(stopped.status != 0 && stopped.stderr.contains("(must be forced) - image is being used by stopped container \(container)"),
                "\(stopped.stderr)")
        let gone = try fixture.docker(["rmi", "-f", id])
        #expect(gone.status == 0 && gone.stdout.contains("Deleted: \(id)"), "\(gone.stdout) \(gone.stderr)")
    }

    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func volumePruneSparesNamedVolumes() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["volume", "create", "named"]).status == 0)
        #expect(try fixture.docker(["create", "--name", "anon", "--network", "none", "-v", "/scratch", Self.image, "true"]).status == 0)
        #expect(try fixture.docker(["rm", "anon"]).status == 0)
        func volumes() throws -> [String] { try fixture.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").map(String.init) }
        #expect(try volumes().count == 2)
        // API 1.42 and later: anonymous volumes only, unless all=true (the CLI's -a).
        #expect(try fixture.docker(["volume", "prune", "-f"]).status == 0)
        #expect(try volumes() == ["named"])
        #expect(try fixture.docker(["volume", "prune", "-f", "-a"]).status == 0)
        #expect(try volumes().isEmpty)
        // Filters of volume ls.
        #expect(try fixture.docker(["volume", "create", "--label", "keep=yes", "kept"]).status == 0)
        #expect(try fixture.docker(["volume", "create", "other"]).status == 0)
        #expect(try fixture.docker(["volume", "ls", "-q", "--filter", "name=kep"]).stdout == "kept\n")
        #expect(try fixture.docker(["volume", "ls", "-q", "--filter", "label=keep=yes"]).stdout == "kept\n")
        #expect(try fixture.docker(["volume", "ls", "-q", "--filter", "dangling=true"]).stdout.split(separator: "\n").sorted() == ["kept", "other"])
        let bad = try fixture.docker(["volume", "ls", "--filter", "bogus=1"])
        #expect(bad.status != 0 && bad.stderr.contains("invalid filter 'bogus'"), "\(bad.stderr)")
        // A volume in use names its containers.
        #expect(try fixture.docker(["create", "--name", "user", "--network", "none", "-v", "kept:/k", Self.image, "true"]).status == 0)
        let user = try fixture.docker(["inspect", "-f", "{{.Id}}", "user"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let inUse = try fixture.docker(["volume", "rm", "kept"])
        #expect(inUse.status != 0 && inUse.stderr.contains("remove kept: volume is in use - [\(user)]"), "\(inUse.stderr)")
        #expect(try fixture.docker(["rm", "user"]).status == 0)
        // caisson volume prune: anonymous ones only, unless --all.
        #expect(try fixture.caisson("volume prune", ["--force"]).status == 0)
        #expect(try volumes().sorted() == ["kept", "other"])
    }

    /// A container's life in events as dockerd 20.10 records it side by side: network
    /// connect before each start and disconnect after each die, a stop's signals as
    /// `kill` events with their numbers, `rm -f`'s SIGKILL too.
    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func lifecycleEvents() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let since = String(Int(Date().timeIntervalSince1970) - 1)
        #expect(try fixture.docker(["run", "-d", "--name", "evt", "--network", "none", Self.image, "sleep", "300"]).status == 0)
        #expect(try fixture.docker(["stop", "-t", "1", "evt"]).status == 0)
        #expect(try fixture.docker(["start", "evt"]).status == 0)
        #expect(try fixture.docker(["rm", "-f", "evt"]).status == 0)
        let until = String(Int(Date().timeIntervalSince1970) + 1)
        let events = try fixture.docker(["events", "--since", since, "--until", until, "--format",
                                         "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.signal}}{{.Actor.Attributes.type}}"],
                                        timeout: 20)
        // What dockerd printed for the same commands (a missing attribute is "<no value>").
        let none = "<no value>"
        #expect(Self.lines(events.stdout) == [
            "container create evt \(none)\(none)", "network connect none \(none)null", "container start evt \(none)\(none)",
            "container kill evt 15\(none)", "container kill evt 9\(none)", "container die evt \(none)\(none)",
            "network disconnect none \(none)null", "container stop evt \(none)\(none)",
            "network connect none \(none)null", "container start evt \(none)\(none)",
            "container kill evt 9\(none)", "container die evt \(none)\(none)", "network disconnect none \(none)null",
            "container destroy evt \(none)\(none)",
        ], "\(events.stdout)")
    }

    /// Every field dockerd 20.10's inspect documents have (captured from it side by side
    /// for the same container, image, network and volume), so clients that index them find
    /// them; listings and the hosts file as it gives them.
    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func inspectDocumentsHaveDockersFields() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["run", "-d", "--name", "ik", "--network", "none", "-e", "A=1", "-v", "/data", Self.image,
                                    "sleep", "300"]).status == 0)
        func object(_ path: String) throws -> [String: Any] {
            let answer = try fixture.request("GET", path)
            #expect(answer.status == 200, "\(path): \(answer.body)")
            return try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any] ?? [:]
        }
        let container = try object("/v1.41/containers/ik/json")
        func keys(_ value: Any?) -> Set<String> { Set((value as? [String: Any])?.keys.map { $0 } ?? []) }
        #expect(keys(container) == ["Id", "Created", "Path", "Args", "State", "Image", "ResolvConfPath", "HostnamePath", "HostsPath",
                                    "LogPath", "Name", "RestartCount", "Driver", "Platform", "MountLabel", "ProcessLabel",
                                    "AppArmorProfile", "ExecIDs", "HostConfig", "GraphDriver", "Mounts", "Config", "NetworkSettings"])
        #expect(keys(container["HostConfig"]) == [
            "Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings", "RestartPolicy", "AutoRemove", "VolumeDriver",
            "VolumesFrom", "CapAdd", "CapDrop", "CgroupnsMode", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts", "GroupAdd", "IpcMode",
            "Cgroup", "Links", "OomScoreAdj", "PidMode", "Privileged", "PublishAllPorts", "ReadonlyRootfs", "SecurityOpt", "UTSMode",
            "UsernsMode", "ShmSize", "Runtime", "ConsoleSize", "Isolation", "CpuShares", "Memory", "NanoCpus", "CgroupParent",
            "BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
            "BlkioDeviceWriteIOps", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems",
            "Devices", "DeviceCgroupRules", "DeviceRequests", "KernelMemory", "KernelMemoryTCP", "MemoryReservation", "MemorySwap",
            "MemorySwappiness", "OomKillDisable", "PidsLimit", "Ulimits", "CpuCount", "CpuPercent", "IOMaximumIOps",
            "IOMaximumBandwidth", "MaskedPaths", "ReadonlyPaths",
        ])
        let settings = container["NetworkSettings"] as? [String: Any] ?? [:]
        #expect(keys(settings) == ["Bridge", "SandboxID", "HairpinMode", "LinkLocalIPv6Address", "LinkLocalIPv6PrefixLen", "Ports",
                                   "SandboxKey", "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID", "Gateway",
                                   "GlobalIPv6Address", "GlobalIPv6PrefixLen", "IPAddress", "IPPrefixLen", "IPv6Gateway", "MacAddress",
                                   "Networks"])
        #expect(keys((settings["Networks"] as? [String: Any])?["none"]) == [
            "IPAMConfig", "Links", "Aliases", "NetworkID", "EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway",
            "GlobalIPv6Address", "GlobalIPv6PrefixLen", "MacAddress", "DriverOpts",
        ])
        let configKeys: Set<String> = ["Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin",
                                       "StdinOnce", "Env", "Cmd", "Image", "Volumes", "WorkingDir", "Entrypoint", "OnBuild", "Labels"]
        #expect(keys(container["Config"]) == configKeys)
        let mounts = container["Mounts"] as? [[String: Any]] ?? []
        #expect(mounts.count == 1 && mounts.first?["Mode"] as? String == "", "\(mounts)")
        let image = try object("/v1.41/images/\(Self.image)/json")
        #expect(keys(image["Config"]) == configKeys)
        #expect(keys(image).isSuperset(of: ["Container", "ContainerConfig", "DockerVersion", "GraphDriver", "RootFS", "Metadata"]))
        let none = try object("/v1.41/networks/none")
        #expect(keys(none) == ["Name", "Id", "Created", "Scope", "Driver", "EnableIPv6", "IPAM", "Internal", "Attachable", "Ingress",
                               "ConfigFrom", "ConfigOnly", "Containers", "Options", "Labels"])
        #expect(try fixture.docker(["volume", "create", "plainvol"]).status == 0)
        #expect(try object("/v1.41/volumes/plainvol")["Options"] is NSNull)

        // Listings and files as dockerd gives them: the virtual size with -s, a named
        // volume among LOCAL VOLUMES, the IPv6 names in /etc/hosts, kill's words.
        #expect(try fixture.docker(["run", "-d", "--name", "lister", "--network", "none", "-v", "plainvol:/v", Self.image,
                                    "sleep", "300"]).status == 0)
        let sized = try fixture.docker(["ps", "-s", "--filter", "name=lister", "--format", "{{.Size}}|{{.LocalVolumes}}|{{.Mounts}}"])
        #expect(sized.stdout.hasPrefix("0B (virtual ") && sized.stdout.hasSuffix("|1|plainvol\n"), "\(sized.stdout)")
        let hosts = try fixture.docker(["exec", "lister", "cat", "/etc/hosts"])
        #expect(hosts.stdout.hasPrefix("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                                       + "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"), "\(hosts.stdout)")
        #expect(keys(try object("/v1.41/info")) == [
            "ID", "Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped", "Images", "Driver",
            "DriverStatus", "Plugins", "MemoryLimit", "SwapLimit", "KernelMemory", "KernelMemoryTCP", "CpuCfsPeriod",
            "CpuCfsQuota", "CPUShares", "CPUSet", "PidsLimit", "IPv4Forwarding", "BridgeNfIptables",
            "BridgeNfIp6tables", "Debug", "NFd", "OomKillDisable", "NGoroutines", "SystemTime", "LoggingDriver",
            "CgroupDriver", "CgroupVersion", "NEventsListener", "KernelVersion", "OperatingSystem", "OSVersion",
            "OSType", "Architecture", "IndexServerAddress", "RegistryConfig", "NCPU", "MemTotal", "GenericResources",
            "DockerRootDir", "HttpProxy", "HttpsProxy", "NoProxy", "Name", "Labels", "ExperimentalBuild",
            "ServerVersion", "Runtimes", "DefaultRuntime", "Swarm", "LiveRestoreEnabled", "Isolation", "InitBinary",
            "ContainerdCommit", "RuncCommit", "InitCommit", "SecurityOptions", "Warnings",
        ])
        let kill = try fixture.docker(["kill", "nosuch"])
        #expect(kill.status != 0 && kill.stderr.contains("Cannot kill container: nosuch: No such container: nosuch"), "\(kill.stderr)")
    }

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }
}
