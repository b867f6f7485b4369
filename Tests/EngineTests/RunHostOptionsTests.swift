import Foundation
import Testing

/// `caisson run`'s host settings (docker's flags: DNS, hosts, sysctls, ulimits, /dev/shm,
/// groups, devices, --mount, anonymous volumes, finer limits, namespace modes, --expose,
/// log rotation), `caisson update` and `caisson top`, seen from inside the container and
/// on the host; bad values exit 125 naming the flag and leave nothing behind.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RunHostOptionsTests {
    @Test("host settings are carried out: resolv.conf, hosts, sysctl, ulimit, /dev/shm, groups, devices, tmpfs, limits, --pid host", arguments: ContainerTests.runtimes)
    func hostSettingsSeenInside(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let me = getpid()
        let script = """
            while read line; do case "$line" in nameserver*|search*|options*) echo "$line";; esac; done < /etc/resolv.conf
            while read address name; do [ "$name" = db.local ] && echo "$address $name"; done < /etc/hosts
            cat /proc/sys/net/ipv4/ip_unprivileged_port_start; ulimit -n; ulimit -Hn; id -G
            echo ok > /dev/mynull && echo device
            while read source target type options rest; do case $target in /t|/dev/shm) echo "$target $options";; esac; done < /proc/mounts
            cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes cpu/cpu.shares cpuset/cpuset.cpus
            [ -d /proc/\(me) ] && echo host-pids; ls -d /anon
            """
        let ran = try engine.runContainer(["--rm", "--dns", "10.1.2.3", "--dns-search", "example.test", "--dns-option", "ndots:3",
                                           "--add-host", "db.local:10.9.8.7", "--sysctl", "net.ipv4.ip_unprivileged_port_start=1000",
                                           "--ulimit", "nofile=1024:2048", "--shm-size", "128m", "--group-add", "1234",
                                           "--device", "/dev/null:/dev/mynull", "--mount", "type=tmpfs,target=/t,tmpfs-size=1m",
                                           "-v", "/anon", "--memory", "64m", "--memory-swap", "128m", "--cpu-shares", "512",
                                           "--cpuset-cpus", "0", "--pid", "host", EngineFixture.image, "sh", "-c", script])
        #expect(ran.status == 0, "\(ran.stderr)")
        let lines = ran.stdout.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(9)) == ["nameserver 10.1.2.3", "search example.test", "options ndots:3", "10.9.8.7 db.local", "1000",
                                           "1024", "2048", "0 1234", "device"], "\(ran.stdout)")
        #expect(lines.contains { $0.hasPrefix("/t ") && $0.contains("size=1024k") }, "\(ran.stdout)")
        #expect(lines.contains { $0.hasPrefix("/dev/shm ") && $0.contains("size=131072k") }, "\(ran.stdout)")
        #expect(Array(lines.suffix(6)) == ["67108864", "134217728", "512", "0", "host-pids", "/anon"], "\(ran.stdout)")
        // --rm took the anonymous volume with the container.
        #expect(try engine.run(["volume", "ls", "-q"]).stdout.isEmpty)
    }

    @Test("--expose with -P publishes on free ports; update changes a running container's cgroup; top lists its processes; log rotation")
    func exposeUpdateTopAndLogs() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let started = try engine.runContainer(["-d", "--name", "web", "-P", "--expose", "8080", EngineFixture.image, "httpd", "-f", "-p", "80", "-h", "/"])
        #expect(started.status == 0, "\(started.stderr)")
        let ports = try engine.run(["port", "web"]).stdout.split(separator: "\n").map(String.init)
        #expect(ports.count == 2 && ports[0].hasPrefix("80/tcp -> 0.0.0.0:") && ports[1].hasPrefix("8080/tcp -> 0.0.0.0:"), "\(ports)")
        let port = ports.first.flatMap { $0.split(separator: ":").last }.map(String.init) ?? ""
        var body: String?
        for _ in 0..<50 where body == nil {
            body = try httpGet("http://127.0.0.1:\(port)/index.html")
            if body == nil { usleep(100_000) }
        }
        #expect(body == "<h1>caisson</h1>\n")

        let top = try engine.run(["top", "web"])
        #expect(top.status == 0 && top.stdout.hasPrefix("UID ") && top.stdout.contains("httpd -f -p 80 -h /"), "\(top.stdout) \(top.stderr)")
        let custom = try engine.run(["top", "web", "-o", "pid,comm"])
        #expect(custom.stdout.hasPrefix("PID ") && custom.stdout.contains("httpd"), "\(custom.stdout)")
        let update = try engine.run(["update", "--memory", "64m", "--cpus", "0.5", "--pids-limit", "30", "web"])
        #expect(update.status == 0 && update.stdout == "web\n", "\(update.stderr)")
        let id = try engine.run(["inspect", "-f", "{{.Id}}", "web"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for (file, value) in [("memory/caisson/\(id)/memory.limit_in_bytes", "67108864"), ("cpu/caisson/\(id)/cpu.cfs_quota_us", "50000"),
                              ("pids/caisson/\(id)/pids.max", "30")] {
            #expect((try? String(contentsOfFile: "/sys/fs/cgroup/" + file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == value, "\(file)")
        }
        #expect(try engine.run(["inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", "web"]).stdout == "67108864 30\n")
        let refused = try engine.run(["update", "--memory-swap", "10m", "web"])
        #expect(refused.status != 0 && refused.stderr.contains("--memory-swap"), "\(refused.stderr)")
        #expect(try engine.run(["stop", "-t", "1", "web"]).status == 0)
        // The new limits are the stopped container's configuration: its next start has them.
        #expect(try engine.run(["start", "web"]).status == 0)
        #expect((try? String(contentsOfFile: "/sys/fs/cgroup/pids/caisson/\(id)/pids.max", encoding: .utf8)) == "30\n")
        let stopped = try engine.run(["top", "nosuch"])
        #expect(stopped.status != 0 && stopped.stderr.contains("No such container"))

        let chatty = try engine.runContainer(["--name", "chatty", "--log-opt", "max-size=2k", "--log-opt", "max-file=2", EngineFixture.image,
                                              "sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done"])
        #expect(chatty.stdout.split(separator: "\n").count == 200)
        let logs = try engine.run(["logs", "chatty"]).stdout.split(separator: "\n")
        #expect(logs.last == "line 199" && logs.count < 200 && logs.count > 20, "\(logs.count)")
    }

    @Test("bad values exit 125 naming the flag, and leave no container or volume")
    func badValuesNameTheFlag() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let cases: [([String], String)] = [
            (["--ulimit", "nofile=1:999999"], "--ulimit"), (["--ulimit", "nofile"], "--ulimit"), (["--sysctl", "kernel.hostname=x"], "--sysctl"),
            (["--device", "/etc/passwd"], "--device"), (["--mount", "type=bind,source=/no/such/dir,target=/x"], "--mount"),
            (["--mount", "type=npipe,target=/x"], "--mount"), (["--add-host", "nocolon"], "--add-host"), (["--dns", "nope"], "--dns"),
            (["--oom-score-adj", "-5"], "--oom-score-adj"), (["--memory-swap", "10m"], "--memory-swap"), (["--cpuset-cpus", "99"], "--cpuset-cpus"),
            (["--pid", "container:nosuch"], "--pid"), (["--ipc", "container:x"], "--ipc"), (["--uts", "other"], "--uts"),
            (["--log-opt", "compress=true"], "--log-opt"), (["--security-opt", "apparmor=myprofile"], "--security-opt"),
            (["--network", "none", "-p", "80"], "--publish"), (["--network", "host", "--network-alias", "x"], "--network-alias"),
            (["--shm-size", "0"], "--shm-size"), (["--cpus", "1", "--cpu-period", "50000"], "--cpu-period"), (["-v", "a:/d", "-v", "b:/d"], "--volume"),
        ]
        for (flags, flag) in cases {
            let refused = try engine.run(["run", "--rm"] + flags + [EngineFixture.image, "true"])
            #expect(refused.status == 125 && refused.stderr.contains(flag), "\(flags): \(refused.status) \(refused.stderr)")
        }
        #expect(try engine.run(["ps", "-a", "-q"]).stdout.isEmpty)
        #expect(try engine.run(["volume", "ls", "-q"]).stdout.isEmpty)
    }
}
