import Foundation
import Testing

/// What `docker run` does by default and refuses up front, as dockerd does: `-e NAME`
/// for a NAME the client's shell does not have unsets it, a tmpfs has dockerd's options
/// and the kernel's size, a memory limit allows as much swap again, bad capabilities,
/// stop signals and memory reservations are refused at create (nothing is made), a
/// missing network is an error and not a pull, `top -o` lists a non-root container's
/// processes, `--init` does not show in the command, and an OOM kill shows in inspect and
/// events.
@Suite(.serialized)
struct DockerRunDefaultsTests {
    static let hasDocker = FileManager.default.isExecutableFile(atPath: DockerDaemonFixture.dockerCLI)
    static let image = DockerDaemonFixture.image

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func environmentTmpfsAndSwapDefaults() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let env = try fixture.docker(["run", "--rm", "--network", "none", "-e", "CAISSON_UNSET_VARIABLE", "-e", "SET=1", Self.image, "env"])
        #expect(env.status == 0, "\(env.stderr)")
        #expect(env.stdout.contains("SET=1\n") && !env.stdout.contains("CAISSON_UNSET_VARIABLE"), "\(env.stdout)")
        #expect(try fixture.docker(["run", "-d", "--name", "envexec", "--network", "none", Self.image, "sleep", "100"]).status == 0)
        let exec = try fixture.docker(["exec", "-e", "CAISSON_UNSET_VARIABLE", "envexec", "env"])
        #expect(exec.status == 0 && !exec.stdout.contains("CAISSON_UNSET_VARIABLE"), "\(exec.stderr)")

        let tmpfs = try fixture.docker(["run", "--rm", "--network", "none", "--tmpfs", "/t", "--tmpfs", "/x:size=1m,exec", Self.image,
                                        "grep", " /[tx] ", "/proc/mounts"])
        let mounts = tmpfs.stdout.split(separator: "\n").map(String.init)
        #expect(mounts.count == 2, "\(tmpfs.stdout) \(tmpfs.stderr)")
        let plain = mounts.first { $0.hasPrefix("tmpfs /t ") } ?? ""
        let sized = mounts.first { $0.hasPrefix("tmpfs /x ") } ?? ""
        #expect(plain.contains("noexec") && plain.contains("nosuid") && plain.contains("nodev") && !plain.contains("size="), "\(plain)")
        #expect(sized.contains("size=1024k") && !sized.contains("noexec") && sized.contains("nosuid"), "\(sized)")

        #expect(try fixture.docker(["create", "--name", "limited", "--network", "none", "-m", "64m", Self.image, "true"]).status == 0)
        let memory = try fixture.docker(["inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}", "limited"])
        #expect(memory.stdout == "67108864 134217728\n", "\(memory.stdout)")

        // --domainname sets the UTS namespace's domain name; inspect shows it.
        let domain = try fixture.docker(["run", "--name", "named", "--network", "none", "--domainname", "example.org", Self.image,
                                         "cat", "/proc/sys/kernel/domainname"])
        #expect(domain.status == 0 && domain.stdout == "example.org\n", "\(domain.stdout) \(domain.stderr)")
        #expect(try fixture.docker(["inspect", "-f", "{{.Config.Domainname}}", "named"]).stdout == "example.org\n")
        let badDomain = try fixture.docker(["create", "--network", "none", "--domainname", "not a domain", Self.image, "true"])
        #expect(badDomain.status != 0 && badDomain.stderr.contains("invalid field Domainname"), "\(badDomain.stderr)")

        // Swappiness and the OOM killer switch reach the container's memory cgroup (v1).
        if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.oom_control") {
            let tuned = try fixture.docker(["run", "-d", "--name", "tuned", "--network", "none", "-m", "32m", "--memory-swappiness", "7",
                                            "--oom-kill-disable", Self.image, "sleep", "100"])
            #expect(tuned.status == 0, "\(tuned.stderr)")
            let id = tuned.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let cgroup = "/sys/fs/cgroup/memory/caisson/" + id
            #expect((try? String(contentsOfFile: cgroup + "/memory.swappiness", encoding: .utf8)) == "7\n")
            #expect((try? String(contentsOfFile: cgroup + "/memory.oom_control", encoding: .utf8))?.contains("oom_kill_disable 1") == true)
            let shown = try fixture.docker(["inspect", "-f", "{{.HostConfig.MemorySwappiness}} {{.HostConfig.OomKillDisable}}", "tuned"])
            #expect(shown.stdout == "7 true\n", "\(shown.stdout)")
        }
        // (The docker CLI checks the range itself: the API is asked directly.)
        let wrong = try fixture.request("POST", "/v1.41/containers/create",
                                        body: #"{"Image":"\#(Self.image)","HostConfig":{"MemorySwappiness":101}}"#)
        #expect(wrong.status == 400 && wrong.body.contains("HostConfig.MemorySwappiness: invalid value: 101"), "\(wrong.body)")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func badSettingsAreRefusedAtCreate() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        for (arguments, words) in [(["--cap-add", "BOGUS"], "HostConfig.CapAdd: unknown capability: \"CAP_BOGUS\""),
                                   (["--cap-drop", "NOPE"], "HostConfig.CapDrop"),
                                   (["--stop-signal", "BOGUS"], "StopSignal: invalid signal: BOGUS"),
                                   (["--memory-reservation", "4m"], "HostConfig.MemoryReservation"),
                                   (["--network", "caisson-no-such-net"], "network caisson-no-such-net not found")] {
            let run = try fixture.docker(["run", "--rm"] + arguments + [Self.image, "true"])
            #expect(run.status != 0 && run.stderr.contains(words), "\(arguments): \(run.stderr)")
            // A missing network is not taken for a missing image (no pull).
            #expect(!run.stderr.contains("Unable to find image"), "\(run.stderr)")
        }
        #expect(try fixture.docker(["ps", "-aq"]).stdout.isEmpty)
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func topOfANonRootContainerAndOOMKills() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["run", "-d", "--name", "user", "--network", "none", "-u", "1000", Self.image, "sleep", "1000"]).status == 0)
        let top = try fixture.docker(["top", "user", "-o", "pid,args"])
        #expect(top.status == 0 && top.stdout.contains("sleep 1000"), "\(top.stdout) \(top.stderr)")
        // --init's wrapper is not the container's command, for inspect and ps as for dockerd.
        #expect(try fixture.docker(["run", "-d", "--name", "wrapped", "--init", "--stop-timeout", "3", "--network", "none", Self.image,
                                    "sleep", "1000"]).status == 0)
        let wrapped = try fixture.docker(["inspect", "-f", "{{.Path}} {{json .Args}} {{.Config.StopTimeout}}", "wrapped"])
        #expect(wrapped.stdout == "sleep [\"1000\"] 3\n", "\(wrapped.stdout)")
        let listed = try fixture.docker(["ps", "--no-trunc", "--filter", "name=wrapped", "--format", "{{.Command}}"])
        #expect(listed.stdout == "\"sleep 1000\"\n", "\(listed.stdout)")

        let started = Int(Date().timeIntervalSince1970)
        let oom = try fixture.docker(["run", "--name", "hog", "--network", "none", "-m", "16m", "--memory-swap", "16m", Self.image,
                                      "sh", "-c", "x=$(head -c 60000000 /dev/zero | tr '\\0' a)"])
        #expect(oom.status == 137, "\(oom.stderr)")
        #expect(try fixture.docker(["inspect", "-f", "{{.State.OOMKilled}}", "hog"]).stdout == "true\n")
        let events = try fixture.docker(["events", "--since", String(started), "--until", String(Int(Date().timeIntervalSince1970) + 1),
                                         "--filter", "container=hog", "--format", "{{.Action}}"])
        let actions = events.stdout.split(separator: "\n").map(String.init)
        #expect(actions.firstIndex(of: "oom").map { $0 < (actions.firstIndex(of: "die") ?? 0) } == true, "\(actions)")
        // An attached run's client attaches before the start, as dockerd records it.
        #expect(actions.firstIndex(of: "attach").map { $0 < (actions.firstIndex(of: "start") ?? 0) } == true, "\(actions)")
        #expect(try fixture.docker(["run", "--name", "fine", "--network", "none", Self.image, "true"]).status == 0)
        #expect(try fixture.docker(["inspect", "-f", "{{.State.OOMKilled}}", "fine"]).stdout == "false\n")
    }
}
