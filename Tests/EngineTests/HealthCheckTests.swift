import Foundation
import Testing

/// Health checks as docker has them, run by each container's monitor through the OCI
/// runtime's `exec`: the `--health-*` flags and the image's HEALTHCHECK, the states and
/// their log in inspect, `ps`'s status text and `health=` filter, `health_status` events.
/// Intervals of one second keep the suite short.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct HealthCheckTests {
    @Test("starting until the check passes, then healthy: ps shows and filters it, events tell it; a stopped container keeps its Health (unhealthy) and a new start starts again")
    func startingThenHealthy() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let run = try engine.runContainer(["-d", "--name", "web", "--network", "none", "--health-cmd", "test -f /tmp/ok",
                                           "--health-interval", "1s", "--health-retries", "2", EngineFixture.image,
                                           "sh", "-c", "sleep 2; touch /tmp/ok; sleep 60"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try engine.run(["ps", "--filter", "health=starting", "--format", "{{.Names}} {{.Status}}"]).stdout
            .hasSuffix("(health: starting)\n"))
        let config = try engine.inspect("web")["Config"] as? [String: Any]
        let check = config?["Healthcheck"] as? [String: Any]
        #expect(check?["Test"] as? [String] == ["CMD-SHELL", "test -f /tmp/ok"])
        #expect(check?["Interval"] as? Int == 1_000_000_000 && check?["Retries"] as? Int == 2 && check?["Timeout"] == nil)

        let healthy = try engine.waitForHealth("web", "healthy", seconds: 15)
        #expect(healthy?["FailingStreak"] as? Int == 0)
        let log = healthy?["Log"] as? [[String: Any]] ?? []
        #expect(log.first?["ExitCode"] as? Int == 1, "the probe at one second fails: \(log)")
        #expect(log.last?["ExitCode"] as? Int == 0)
        #expect(log.allSatisfy { ($0["Start"] as? String ?? "") < ($0["End"] as? String ?? "") && $0["Output"] as? String == "" })
        #expect(try engine.run(["ps", "--format", "{{.Status}}"]).stdout.hasSuffix(" (healthy)\n"))
        #expect(try engine.run(["ps", "--filter", "health=healthy", "--format", "{{.Names}}"]).stdout == "web\n")
        #expect(try engine.run(["ps", "--filter", "health=unhealthy", "-q"]).stdout.isEmpty)
        #expect(try engine.run(["ps", "--filter", "health=none", "-q"]).stdout.isEmpty)

        // Killed: the last Health stays, unhealthy as docker reports a stopped check.
        #expect(try engine.run(["kill", "web"]).status == 0)
        #expect(try engine.run(["wait", "web"]).stdout == "137\n")
        let stopped = try engine.health("web")
        #expect(stopped?["Status"] as? String == "unhealthy")
        #expect((stopped?["Log"] as? [Any])?.count == log.count)
        #expect(try engine.run(["ps", "-a", "--filter", "health=unhealthy", "--format", "{{.Names}} {{.State}}"]).stdout == "web exited\n")

        // Started again: starting, then healthy again (the file is still there), the log kept.
        #expect(try engine.run(["start", "web"]).status == 0)
        let again = try engine.waitForHealth("web", "healthy", seconds: 15)
        #expect((again?["Log"] as? [Any])?.count ?? 0 > log.count)
        let events = try engine.run(["events", "--since", "5m", "--until", "0s", "--filter", "event=health_status",
                                     "--format", "{{.Action}} {{.Actor.Attributes.name}}"])
        #expect(events.stdout == "health_status: healthy web\nhealth_status: healthy web\n", "\(events.stdout)")
    }

    @Test("a failing check goes unhealthy with its streak and output; a probe past its timeout is killed; probes leave no zombie, and stop with their container",
          arguments: ContainerTests.runtimes)
    func failuresAndTimeouts(runtime: String) throws {
        let engine = try EngineFixture(runtime: runtime)
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let common = ["-d", "--network", "none", "--health-interval", "1s"]
        #expect(try engine.runContainer(common + ["--name", "failing", "--health-cmd", "echo not ready; exit 3", "--health-retries", "2",
                                                  EngineFixture.image, "sleep", "60"]).status == 0)
        #expect(try engine.runContainer(common + ["--name", "slow", "--health-cmd", "echo probing; sleep 100", "--health-timeout", "500ms",
                                                  "--health-retries", "1", EngineFixture.image, "sleep", "60"]).status == 0)
        #expect(try engine.runContainer(["-d", "--network", "none", "--health-interval", "300ms", "--name", "brief",
                                         "--health-cmd", "sleep 100", EngineFixture.image, "sleep", "1.5"]).status == 0)

        let failing = try engine.waitForHealth("failing", "unhealthy", seconds: 15)
        #expect(failing?["FailingStreak"] as? Int ?? 0 >= 2)
        let failure = (failing?["Log"] as? [[String: Any]])?.last
        #expect(failure?["ExitCode"] as? Int == 3 && failure?["Output"] as? String == "not ready\n", "\(String(describing: failure))")

        let slow = try engine.waitForHealth("slow", "unhealthy", seconds: 15)
        let timedOut = (slow?["Log"] as? [[String: Any]])?.last
        #expect(timedOut?["ExitCode"] as? Int == -1)
        #expect(timedOut?["Output"] as? String == "Health check exceeded timeout (500ms): probing\n", "\(String(describing: timedOut))")
        // Killed at the timeout: never more than the one probe that may be running now.
        let slowID = try engine.id("slow")
        var seen: Set<Int32> = []
        for _ in 0..<8 {
            let zombies = engine.zombieChildrenOfMonitor(slowID)
            #expect(zombies.intersection(seen).isEmpty, "zombies left by the probes: \(zombies)")
            seen = zombies
            #expect(ContainerProcesses.commandLines(inContainer: slowID).filter { $0 == "sleep 100" }.count <= 1)
            usleep(250_000)
        }

        // The container that ended while its probe ran: no result from it, unhealthy, nothing left.
        let briefID = try engine.id("brief")
        #expect(try engine.run(["wait", "brief"]).stdout == "0\n")
        let brief = try engine.health("brief")
        #expect(brief?["Status"] as? String == "unhealthy")
        #expect((brief?["Log"] as? [Any])?.isEmpty == true, "\(String(describing: brief))")
        #expect(ContainerProcesses.commandLines(mentioning: briefID).isEmpty)
    }

    @Test("the image's HEALTHCHECK (caisson build) runs as it is, under --health-* flags merged over it, or not at all with --no-healthcheck")
    func imageHealthcheck() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let context = try Scratch.directory("health-context")
        defer { try? FileManager.default.removeItem(atPath: context) }
        try "FROM \(EngineFixture.image)\nHEALTHCHECK --interval=1s --retries=1 CMD [\"test\", \"-f\", \"/tmp/ok\"]\n"
            .write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let built = try engine.run(["build", "-q", "-t", "localhost/health:1", context])
        #expect(built.status == 0, "\(built.stderr)")
        let common = ["-d", "--network", "none"]
        #expect(try engine.runContainer(common + ["--name", "checked", "localhost/health:1", "sh", "-c", "touch /tmp/ok; sleep 60"]).status == 0)
        #expect(try engine.runContainer(common + ["--name", "unchecked", "--no-healthcheck", "localhost/health:1", "sleep", "60"]).status == 0)
        #expect(try engine.runContainer(common + ["--name", "patient", "--health-start-period", "30s", "--health-start-interval", "1s",
                                                  "localhost/health:1", "sleep", "60"]).status == 0)

        #expect(try engine.waitForHealth("checked", "healthy", seconds: 15) != nil)
        let checked = (try engine.inspect("checked")["Config"] as? [String: Any])?["Healthcheck"] as? [String: Any]
        #expect(checked?["Test"] as? [String] == ["CMD", "test", "-f", "/tmp/ok"] && checked?["Retries"] as? Int == 1)

        let unchecked = try engine.inspect("unchecked")
        #expect((unchecked["State"] as? [String: Any])?["Health"] == nil)
        #expect(((unchecked["Config"] as? [String: Any])?["Healthcheck"] as? [String: Any])?["Test"] as? [String] == ["NONE"])
        #expect(try engine.run(["ps", "--filter", "health=none", "--format", "{{.Names}} {{.Status}}"]).stdout.hasPrefix("unchecked Up "))

        // Failures within the start period do not count while it is starting.
        let patientConfig = (try engine.inspect("patient")["Config"] as? [String: Any])?["Healthcheck"] as? [String: Any]
        #expect(patientConfig?["Test"] as? [String] == ["CMD", "test", "-f", "/tmp/ok"])
        #expect(patientConfig?["StartPeriod"] as? Int == 30_000_000_000 && patientConfig?["Interval"] as? Int == 1_000_000_000)
        var patient: [String: Any]?
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            patient = try engine.health("patient")
            if (patient?["Log"] as? [Any])?.count ?? 0 >= 2 { break }
            usleep(200_000)
        }
        #expect(patient?["Status"] as? String == "starting" && patient?["FailingStreak"] as? Int == 0, "\(String(describing: patient))")
        #expect(((patient?["Log"] as? [[String: Any]])?.last)?["ExitCode"] as? Int == 1)
    }

    @Test("bad health flags are refused naming the flag, in docker's words")
    func badFlags() throws {
        let engine = try EngineFixture()
        defer { let leftovers = (try? engine.tearDown()) ?? ["teardown failed"]; #expect(leftovers.isEmpty, "\(leftovers)") }
        let cases: [([String], String)] = [
            (["--health-interval", "1"], "invalid argument \"1\" for \"--health-interval\" flag: time: missing unit in duration \"1\""),
            (["--health-timeout", "soon"], "invalid argument \"soon\" for \"--health-timeout\" flag: time: invalid duration \"soon\""),
            (["--health-retries", "two"], "invalid argument \"two\" for \"--health-retries\" flag: strconv.ParseInt: parsing \"two\": invalid syntax"),
            (["--health-start-period=-1s"], "--health-start-period cannot be negative"),
            (["--no-healthcheck", "--health-cmd", "true"], "--no-healthcheck conflicts with --health-* options"),
            (["--health-interval", "10us"], "Interval in Healthcheck cannot be less than 1ms"),
        ]
        for (flags, message) in cases {
            let refused = try engine.run(["create"] + flags + [EngineFixture.image, "true"])
            #expect(refused.status == 125 && refused.stderr == "Error: \(message)\n", "\(flags): \(refused.stderr)")
        }
        let filter = try engine.run(["ps", "--filter", "health=sick"])
        #expect(filter.status == 125)
        #expect(filter.stderr.contains("invalid filter 'health=sick': invalid value for health (sick): must be one of none, starting, healthy, unhealthy"))
        #expect(try engine.run(["ps", "-a", "-q"]).stdout.isEmpty)
    }
}

extension EngineFixture {
    /// `inspect`'s document of one container.
    func inspect(_ name: String) throws -> [String: Any] {
        let output = try run(["inspect", name]).stdout
        let documents = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]
        return documents?.first ?? [:]
    }

    func id(_ name: String) throws -> String {
        try inspect(name)["Id"] as? String ?? ""
    }

    /// `State.Health`, nil when the container has none.
    func health(_ name: String) throws -> [String: Any]? {
        (try inspect(name)["State"] as? [String: Any])?["Health"] as? [String: Any]
    }

    /// Polls until the health status is `status`; the Health then (nil on timeout).
    func waitForHealth(_ name: String, _ status: String, seconds: TimeInterval) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let health = try health(name), health["Status"] as? String == status { return health }
            usleep(100_000)
        }
        Issue.record("\(name) did not become \(status): \(String(describing: try health(name)))")
        return nil
    }

    /// Zombie children of the container's monitor.
    func zombieChildrenOfMonitor(_ id: String) -> Set<Int32> {
        guard let text = try? String(contentsOfFile: root + "/containers/\(id)/monitor.pid", encoding: .utf8),
              let monitor = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return [] }
        return Set(ContainerProcesses.all().filter { $0.parent == monitor && $0.state == "Z" }.map(\.pid))
    }
}

/// Host processes as /proc shows them, for the tests' checks of what probes leave.
enum ContainerProcesses {
    static func all() -> [(pid: Int32, parent: Int32, state: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let parent = Int32(fields[1]) else { return nil }
            return (pid, parent, String(fields[0]))
        }
    }

    static func commandLine(_ pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\0").joined(separator: " ")
    }

    /// The command lines of the processes in the container's cgroup.
    static func commandLines(inContainer id: String) -> [String] {
        all().filter { process in
            ((try? String(contentsOfFile: "/proc/\(process.pid)/cgroup", encoding: .utf8)) ?? "").contains(id)
        }.map { commandLine($0.pid) }
    }

    /// The command lines that name the container (a runtime's `exec ID ...`).
    static func commandLines(mentioning id: String) -> [String] {
        all().map { commandLine($0.pid) }.filter { $0.contains(id) }
    }
}
