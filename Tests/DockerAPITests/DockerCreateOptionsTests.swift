import Foundation
import Testing

/// `docker run`/`create` options through caissond's Docker Engine API, carried out by the
/// engine and seen from inside the container (its output, by `docker logs`), from the
/// host (published ports, cgroup files) and in `docker inspect`; bad values are refused
/// with the field's name and leave no container.
@Suite(.serialized)
struct DockerCreateOptionsTests {
    static let hasDocker = FileManager.default.isExecutableFile(atPath: DockerDaemonFixture.dockerCLI)
    static let image = DockerDaemonFixture.image

    /// A host port unlikely to be taken (other suites use low or ephemeral ones).
    static func randomPort() -> Int { Int.random(in: 21000..<29000) }

    /// What the host reads from a TCP port (busybox nc), retried while the server starts.
    static func readPort(_ port: String) throws -> String {
        for _ in 0..<50 {
            let result = try Shell.run("/bin/busybox", ["nc", "-w", "2", "127.0.0.1", port], stdin: "", timeout: 5)
            if !result.stdout.isEmpty { return result.stdout }
            usleep(100_000)
        }
        return ""
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func publishedPortsAnswerFromTheHost() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let port = Self.randomPort()
        let server = "serve() { while true; do echo hi from $1 | nc -l -p $1; done; }; "
        let run = try fixture.docker(["run", "-d", "--name", "web", "-p", "\(port):80", Self.image, "sh", "-c", server + "serve 80"])
        #expect(run.status == 0, "\(run.stderr)\n\(fixture.daemonLog)")
        #expect(try Self.readPort(String(port)) == "hi from 80\n")
        #expect(try fixture.docker(["port", "web"]).stdout == "80/tcp -> 0.0.0.0:\(port)\n")
        let ports = try fixture.docker(["inspect", "-f", "{{json .HostConfig.PortBindings}} {{json .NetworkSettings.Ports}}", "web"])
        #expect(ports.stdout == "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\(port)\"}]} {\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"\(port)\"}]}\n")

        // -P publishes every exposed port (here --expose's) on a free host port; -p 82 too.
        let all = try fixture.docker(["run", "-d", "--name", "all", "-P", "--expose", "81", "-p", "82", Self.image, "sh", "-c",
                                      server + "serve 81 & serve 82"])
        #expect(all.status == 0, "\(all.stderr)")
        let published = try fixture.docker(["port", "all", "81/tcp"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let chosen = String(published.split(separator: ":").last ?? "")
        #expect(published.hasPrefix("0.0.0.0:") && Int(chosen) != nil, "\(published)")
        #expect(try Self.readPort(chosen) == "hi from 81\n")
        let other = try fixture.docker(["port", "all", "82"]).stdout
        #expect(try Self.readPort(String(other.split(separator: ":").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) == "hi from 82\n")
        let exposed = try fixture.docker(["inspect", "-f", "{{json .Config.ExposedPorts}} {{.HostConfig.PublishAllPorts}}", "all"])
        #expect(exposed.stdout == "{\"81/tcp\":{},\"82/tcp\":{}} true\n", "\(exposed.stderr)")
        #expect(try fixture.caisson("port", ["all", "81"]).stdout == published + "\n")

        // The same port twice: the second start fails, nothing half-made stays running.
        let clash = try fixture.docker(["run", "-d", "--name", "clash", "-p", "\(port):80", Self.image, "true"])
        #expect(clash.status != 0 && clash.stderr.contains("\(port)"), "\(clash.stderr)")
        #expect(try Self.readPort(String(port)) == "hi from 80\n")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func volumesMountsAndTmpfs() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let host = fixture.directory + "/shared"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        try "from the host\n".write(toFile: host + "/note", atomically: true, encoding: .utf8)
        let writer = try fixture.output(["-v", "vol:/data", "-v", "/anon", "--mount", "type=tmpfs,target=/t,tmpfs-size=1m",
                                         "--tmpfs", "/x:rw,size=2m", "--mount", "type=bind,source=\(host),target=/b,readonly",
                                         "--mount", "type=volume,source=bare,target=/etc,volume-nocopy"],
                                        "echo kept > /data/file; echo anon > /anon/file; df -k /t /x | tail -2 | awk '{print $2}'; "
                                        + "cat /b/note; touch /b/new 2>&1 | grep -c Read-only; test -f /etc/passwd || echo empty")
        #expect(writer.logs == "1024\n2048\nfrom the host\n1\nempty\n", "\(writer.logs)")
        let reader = try fixture.output(["-v", "vol:/data:ro", "-v", "seeded:/etc"], "cat /data/file; test -f /etc/passwd && echo seeded")
        #expect(reader.logs == "kept\nseeded\n", "\(reader.logs)")

        // The anonymous volume has docker's 64-hex name and shows in Mounts; rm -v takes it, not vol.
        let template = "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}} {{.Propagation}}|{{if eq .Type \"volume\"}}{{.Name}}{{end}};{{end}}"
        let mounts = try fixture.docker(["inspect", "-f", template, writer.id])
        let entries = mounts.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").map(String.init)
        #expect(entries.contains("volume /data true |vol"), "\(mounts.stdout)")
        #expect(entries.contains("bind /b false rprivate|"), "\(mounts.stdout)")
        #expect(entries.contains("tmpfs /t true |"), "\(mounts.stdout)")
        let anonymous = entries.first { $0.hasPrefix("volume /anon ") }?.split(separator: "|").last.map(String.init) ?? ""
        #expect(anonymous.count == 64 && anonymous.allSatisfy(\.isHexDigit), "\(mounts.stdout)")
        #expect(try fixture.docker(["inspect", "-f", "{{json .Config.Volumes}} {{json .HostConfig.Tmpfs}}", writer.id]).stdout
                == "{\"/anon\":{}} {\"/t\":\"size=1048576\",\"/x\":\"rw,size=2m\"}\n")
        #expect(try fixture.docker(["volume", "ls", "-q"]).stdout.contains(anonymous))
        #expect(try fixture.docker(["rm", "-v", writer.id]).status == 0)
        let volumes = try fixture.docker(["volume", "ls", "-q"]).stdout
        #expect(!volumes.contains(anonymous) && volumes.contains("vol\n"), "\(volumes)")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func dnsHostsAndSysctls() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let result = try fixture.output(["--dns", "10.1.2.3", "--dns-search", "example.test", "--dns-option", "ndots:3",
                                         "--add-host", "db.local:10.9.8.7", "--add-host", "gw:host-gateway",
                                         "--sysctl", "net.ipv4.ip_unprivileged_port_start=1000", "--hostname", "box"],
                                        "grep -v '^#' /etc/resolv.conf | grep -E 'nameserver|search|options'; grep -E 'db.local|gw' /etc/hosts; "
                                        + "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; ip route | awk '/default/ {print $3}'")
        let lines = result.logs.split(separator: "\n").map(String.init)
        #expect(lines.prefix(4) == ["nameserver 10.1.2.3", "search example.test", "options ndots:3", "10.9.8.7\tdb.local"], "\(result.logs)")
        #expect(lines.count == 7 && lines[4] == lines[6] + "\tgw" && lines[5] == "1000", "\(result.logs)")
        let inspected = try fixture.docker(["inspect", "-f", "{{json .HostConfig.Dns}} {{json .HostConfig.ExtraHosts}} {{json .HostConfig.Sysctls}}", result.id])
        #expect(inspected.stdout == "[\"10.1.2.3\"] [\"db.local:10.9.8.7\",\"gw:host-gateway\"] {\"net.ipv4.ip_unprivileged_port_start\":\"1000\"}\n")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func limitsDevicesAndGroups() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let result = try fixture.output(["--ulimit", "nofile=1024:2048", "--shm-size", "128m", "--device", "/dev/null:/dev/mynull",
                                         "--group-add", "1234", "--memory", "64m", "--memory-swap", "128m", "--memory-reservation", "32m",
                                         "--cpu-shares", "512", "--cpuset-cpus", "0", "--oom-score-adj", "100",
                                         "--security-opt", "no-new-privileges"],
                                        "ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1 | awk '{print $2}'; echo ok > /dev/mynull && ls -l /dev/mynull | cut -c1; "
                                        + "id -G; cat /proc/self/oom_score_adj; grep NoNewPrivs /proc/self/status | cut -f2; "
                                        + "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes cpu/cpu.shares cpuset/cpuset.cpus")
        #expect(result.status == "0", "\(result.logs)")
        #expect(result.logs == "1024\n2048\n131072\nc\n0 1234\n100\n1\n67108864\n134217728\n33554432\n512\n0\n", "\(result.logs)")
        let inspected = try fixture.docker(["inspect", "-f", "{{json .HostConfig.Ulimits}} {{.HostConfig.ShmSize}} {{json .HostConfig.Devices}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}}", result.id])
        #expect(inspected.stdout == "[{\"Hard\":2048,\"Name\":\"nofile\",\"Soft\":1024}] 134217728 [{\"CgroupPermissions\":\"rwm\",\"PathInContainer\":\"/dev/mynull\",\"PathOnHost\":\"/dev/null\"}] 134217728 512 0\n", "\(inspected.stdout)")

        // A profile of docker's format: mkdir refused, the rest allowed.
        let profile = fixture.directory + "/no-mkdir.json"
        try #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#
            .write(toFile: profile, atomically: true, encoding: .utf8)
        let confined = try fixture.output(["--security-opt", "seccomp=\(profile)"], "mkdir /tmp/d 2>&1; echo done")
        #expect(confined.logs.contains("Operation not permitted") && confined.logs.hasSuffix("done\n"), "\(confined.logs)")

        // json-file rotation: max-size and max-file; logs reads across the rotated file.
        let chatty = try fixture.output(["--log-opt", "max-size=2k", "--log-opt", "max-file=2"],
                                        "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done")
        let logged = chatty.logs.split(separator: "\n")
        #expect(logged.last == "line 199" && logged.count < 200 && logged.count > 20, "\(logged.count) lines")
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.root + "/containers/" + chatty.id)
        #expect(files.contains("container.log.1") && !files.contains("container.log.2"), "\(files)")
        #expect(try fixture.docker(["inspect", "-f", "{{json .HostConfig.LogConfig}}", chatty.id]).stdout
                == "{\"Type\":\"json-file\",\"Config\":{\"max-file\":\"2\",\"max-size\":\"2048\"}}\n")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func namespaceModes() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let me = getpid()
        let shared = "/dev/shm/caisson-test-\(me)"
        try "host\n".write(toFile: shared, atomically: true, encoding: .utf8)
        defer { unlink(shared) }
        let host = try fixture.output(["--pid", "host", "--uts", "host", "--ipc", "host"],
                                      "test -d /proc/\(me) && echo sees \(me); hostname; cat \(shared)")
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        #expect(host.logs == "sees \(me)\n\(String(cString: name))\nhost\n", "\(host.logs)")
        let modes = try fixture.docker(["inspect", "-f", "{{.HostConfig.PidMode}} {{.HostConfig.UTSMode}} {{.HostConfig.IpcMode}}", host.id])
        #expect(modes.stdout == "host host host\n")

        // Another container's PID namespace: its processes are this one's.
        let holder = try fixture.docker(["run", "-d", "--name", "holder", Self.image, "sleep", "300"])
        #expect(holder.status == 0, "\(holder.stderr)")
        let joined = try fixture.output(["--pid", "container:holder"], "ps -o args | grep -c '^sleep 300'")
        #expect(joined.logs == "1\n", "\(joined.logs)")
        let own = try fixture.output([], "ps -o args | grep -c '^sleep 300'")
        #expect(own.logs == "0\n", "\(own.logs)")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(3)))
    func updateTopAndPrune() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let run = try fixture.docker(["run", "-d", "--name", "busy", "--label", "tier=back", Self.image, "sh", "-c", "sleep 301"])
        #expect(run.status == 0, "\(run.stderr)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let top = try fixture.docker(["top", "busy"])
        #expect(top.status == 0, "\(top.stderr)")
        let topLines = top.stdout.split(separator: "\n")
        #expect(topLines.first?.split(separator: " ").first == "UID" && topLines.first?.hasSuffix("CMD") == true, "\(top.stdout)")
        #expect(topLines.dropFirst().contains { $0.hasSuffix("sleep 301") }, "\(top.stdout)")
        let custom = try fixture.docker(["top", "busy", "-o", "pid,args"])
        #expect(custom.stdout.hasPrefix("PID") && custom.stdout.contains("sleep 301"), "\(custom.stdout)")
        #expect(try fixture.caisson("top", ["busy"]).stdout.contains("sleep 301"))

        let update = try fixture.docker(["update", "--memory", "64m", "--memory-swap", "128m", "--cpus", "0.5", "--cpu-shares", "300",
                                         "--pids-limit", "50", "--restart", "on-failure:2", "busy"])
        #expect(update.status == 0 && update.stdout == "busy\n", "\(update.stderr)")
        for (file, value) in [("memory/caisson/\(id)/memory.limit_in_bytes", "67108864"), ("memory/caisson/\(id)/memory.memsw.limit_in_bytes", "134217728"),
                              ("cpu/caisson/\(id)/cpu.cfs_quota_us", "50000"), ("cpu/caisson/\(id)/cpu.shares", "300"),
                              ("pids/caisson/\(id)/pids.max", "50")] {
            let text = try String(contentsOfFile: "/sys/fs/cgroup/" + file, encoding: .utf8)
            #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == value, "\(file)")
        }
        let inspected = try fixture.docker(["inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "busy"])
        #expect(inspected.stdout == "67108864 500000000 50 on-failure:2\n")
        // The new policy reaches the running container's monitor: two restarts after a failure.
        let failing = try fixture.docker(["run", "-d", "--name", "flaky", Self.image, "sh", "-c", "sleep 2; exit 3"])
        #expect(failing.status == 0)
        #expect(try fixture.docker(["update", "--restart", "on-failure:2", "flaky"]).status == 0)
        var restarts = ""
        for _ in 0..<150 {
            restarts = try fixture.docker(["inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "flaky"]).stdout
            if restarts == "2 exited\n" { break }
            usleep(100_000)
        }
        #expect(restarts == "2 exited\n")
        let refused = try fixture.docker(["update", "--memory", "64m", "--memory-swap", "32m", "busy"])
        #expect(refused.status != 0 && refused.stderr.contains("MemorySwap"), "\(refused.stderr)")

        // prune: stopped containers only, by label; docker's answer.
        for (name, label) in [("old1", "tier=back"), ("old2", "tier=front")] {
            #expect(try fixture.docker(["create", "--name", name, "--label", label, Self.image, "true"]).status == 0)
        }
        let pruned = try fixture.docker(["container", "prune", "-f", "--filter", "label=tier=back"])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.hasPrefix("Deleted Containers:\n") && pruned.stdout.contains("Total reclaimed space:"), "\(pruned.stdout)")
        let left = try fixture.docker(["ps", "-a", "--format", "{{.Names}}"]).stdout.split(separator: "\n").sorted()
        #expect(left == ["busy", "flaky", "old2"], "\(left)")
        // until: created before a minute from now, as Unix seconds.
        let later = Int(Date().timeIntervalSince1970) + 60
        let all = try fixture.request("POST", "/v1.45/containers/prune?filters=%7B%22until%22%3A%5B%22\(later)%22%5D%7D")
        #expect(all.status == 200 && all.body.contains("\"ContainersDeleted\":[") && all.body.contains("\"SpaceReclaimed\":"), "\(all.body)")
        #expect(try fixture.docker(["ps", "-a", "--format", "{{.Names}}"]).stdout == "busy\n")
        #expect(try fixture.docker(["stop", "-t", "0", "busy"]).status == 0)
        let stopped = try fixture.docker(["top", "busy"])
        #expect(stopped.status != 0 && stopped.stderr.contains("is not running"), "\(stopped.stderr)")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func networkAliasesResolveByName() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["network", "create", "appnet"]).status == 0)
        let server = try fixture.docker(["run", "-d", "--name", "srv", "--network", "appnet", "--network-alias", "db",
                                         "--network-alias", "cache", Self.image, "sleep", "300"])
        #expect(server.status == 0, "\(server.stderr)")
        let client = try fixture.output(["--network", "appnet"], "ping -c 1 -W 2 db >/dev/null && echo db; ping -c 1 -W 2 cache >/dev/null && echo cache")
        #expect(client.logs == "db\ncache\n", "\(client.logs)")
        let aliases = try fixture.docker(["inspect", "-f", "{{json .NetworkSettings.Networks.appnet.Aliases}}", "srv"])
        #expect(aliases.stdout == "[\"db\",\"cache\"]\n")
        // An update writes the container's files again: its /etc/hosts keeps its peers.
        let waiting = try fixture.docker(["run", "-d", "--name", "waiting", "--network", "appnet", Self.image, "sleep", "300"])
        #expect(try fixture.docker(["update", "--cpu-shares", "100", "waiting"]).status == 0)
        let hosts = try String(contentsOfFile: fixture.root + "/containers/" + waiting.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/hosts", encoding: .utf8)
        #expect(hosts.contains("srv ") && hosts.contains(" db cache"), "\(hosts)")
    }

    /// Bad values: a non-zero exit, the field named, nothing left behind.
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func badValuesAreRefusedByName() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let badProfile = fixture.directory + "/bad-profile.json"
        try #"{"defaultAction": "SCMP_ACT_NOPE"}"#.write(toFile: badProfile, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--ulimit", "nofile=1024:999999"], "HostConfig.Ulimits"), (["--oom-score-adj", "-500"], "HostConfig.OomScoreAdj"),
            (["--sysctl", "net.nosuch.key=1"], "HostConfig.Sysctls"), (["--ipc", "host", "--sysctl", "kernel.msgmax=8192"], "HostConfig.Sysctls"),
            (["--device", "/dev/nosuch"], "HostConfig.Devices"), (["--device", "/etc/passwd"], "HostConfig.Devices"),
            (["--cpuset-cpus", "999"], "HostConfig.CpusetCpus"), (["--memory-swap", "64m"], "HostConfig.MemorySwap"),
            (["--memory", "64m", "--memory-swap", "32m"], "HostConfig.MemorySwap"), (["--cpus", "1", "--cpu-quota", "50000"], "HostConfig.CpuQuota"),
            (["--security-opt", "label=type:x"], "HostConfig.SecurityOpt"), (["--security-opt", "seccomp=\(badProfile)"], "HostConfig.SecurityOpt"),
            (["--ipc", "container:x"], "HostConfig.IpcMode"), (["--pid", "container:nosuch"], "HostConfig.PidMode"),
            (["--network", "none", "--add-host", "x:host-gateway"], "HostConfig.ExtraHosts"),
            (["--log-opt", "compress=true"], "HostConfig.LogConfig.Config"), (["--log-opt", "max-size=lots"], "HostConfig.LogConfig.Config"),
            (["--mount", "type=bind,source=/no/such/dir,target=/x"], "HostConfig.Mounts"), (["-v", "a:/d", "-v", "b:/d"], "HostConfig.Binds"),
            (["--tmpfs", "/t:bogus"], "HostConfig.Tmpfs"), (["-p", "[::1]:8080:80"], "HostConfig.PortBindings"),
            (["--network", "none", "-p", "8080:80"], "HostConfig.PortBindings"), (["--cpu-period", "10"], "HostConfig.CpuPeriod"),
        ]
        for (flags, field) in cases {
            let refused = try fixture.docker(["create"] + flags + [Self.image, "true"])
            #expect(refused.status != 0 && refused.stderr.contains(field), "\(flags): \(refused.stderr)")
        }
        // Raw bodies docker's CLI would not send.
        let bodies: [(String, String)] = [
            ("{\"Image\":\"local/busybox:1\",\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"8000-8010\"}]}}}", "HostConfig.PortBindings"),
            ("{\"Image\":\"local/busybox:1\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"npipe\",\"Target\":\"/x\"}]}}", "HostConfig.Mounts[0].Type"),
            ("{\"Image\":\"local/busybox:1\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Target\":\"/x\",\"VolumeOptions\":{\"Subpath\":\"a\"}}]}}", "HostConfig.Mounts[0].VolumeOptions.Subpath"),
            ("{\"Image\":\"local/busybox:1\",\"HostConfig\":{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":\"x\"}]}}", "HostConfig.Ulimits[0].Soft"),
            ("{\"Image\":\"local/busybox:1\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"a\":{},\"b\":{}}}}", "NetworkingConfig.EndpointsConfig"),
            ("{\"Image\":\"local/busybox:1\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"bridge\":{\"IPAMConfig\":{\"IPv4Address\":\"10.89.0.9\"}}}}}", "IPAMConfig.IPv4Address"),
            ("{\"Image\":\"local/busybox:1\",\"Domainname\":\"not a domain\"}", "invalid field Domainname"),
            ("{\"Image\":\"local/busybox:1\",\"HostConfig\":{\"Frobnicate\":1}}", "HostConfig.Frobnicate"),
        ]
        for (body, field) in bodies {
            let response = try fixture.request("POST", "/v1.45/containers/create", body: body)
            #expect(response.status == 400 && response.body.contains(field), "\(body): \(response.status) \(response.body)")
        }
        let update = try fixture.request("POST", "/v1.45/containers/nosuch/update", body: "{\"BlkioWeight\": 100}")
        #expect(update.status == 400 && update.body.contains("BlkioWeight"), "\(update.body)")
        #expect(try fixture.docker(["ps", "-a", "-q"]).stdout.isEmpty)
        #expect(try fixture.docker(["volume", "ls", "-q"]).stdout.isEmpty)
    }
}

extension DockerDaemonFixture {
    /// `docker run -d FLAGS IMAGE sh -c SCRIPT`, then `docker wait` and `docker logs`:
    /// the container's id, exit status and output (docker exec and attach are not there yet).
    func output(_ flags: [String], _ script: String) throws -> (id: String, status: String, logs: String) {
        let run = try docker(["run", "-d"] + flags + [DockerDaemonFixture.image, "sh", "-c", script])
        guard run.status == 0 else { throw FixtureError(what: "docker run \(flags)", output: run.stderr + "\n" + daemonLog) }
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let status = try docker(["wait", id]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let logs = try docker(["logs", id])
        return (id, status, logs.stdout + logs.stderr)
    }
}
