import Foundation
import Testing

/// podman, a real engine, drives caisson-runtime through conmon: the runc interface
/// as engines actually use it (create with --console-socket/--pid-file, start, state,
/// kill, delete, exec, pause, resume).
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: Podman.available, "podman is not installed"))
struct PodmanTests {
    let podman = Podman.shared

    @Test func runPrintsOutputAndReturnsExitCodes() throws {
        let ok = try podman.run(["run", "--rm", "--network", "none", Podman.image, "sh", "-c", "echo hello from podman; hostname"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.hasPrefix("hello from podman\n"))
        let failing = try podman.run(["run", "--rm", "--network", "none", Podman.image, "sh", "-c", "exit 7"])
        #expect(failing.status == 7)
    }

    @Test func stdinUserEnvironmentAndWorkdir() throws {
        let piped = try podman.run(["run", "--rm", "-i", "--network", "none", Podman.image, "cat"], stdin: "piped input\n")
        #expect(piped.stdout == "piped input\n")
        let identity = try podman.run(["run", "--rm", "--network", "none", "--user", "1000:1000", "-e", "FOO=bar",
                                       "-w", "/tmp", Podman.image, "sh", "-c", "id -u; echo $FOO; pwd"])
        #expect(identity.stdout == "1000\nbar\n/tmp\n", "\(identity.stderr)")
    }

    @Test func readOnlyRootWithWritableTmp() throws {
        let result = try podman.run(["run", "--rm", "--network", "none", "--read-only", Podman.image,
                                     "sh", "-c", "touch /x 2>/dev/null || echo root-ro; touch /tmp/y && echo tmp-rw"])
        #expect(result.stdout == "root-ro\ntmp-rw\n", "\(result.stderr)")
    }

    @Test func limitsAndCapabilities() throws {
        let limits = try podman.run(["run", "--rm", "--network", "none", "--memory", "64m", "--pids-limit", "30", Podman.image,
                                     "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max"])
        #expect(limits.stdout == "67108864\n30\n", "\(limits.stderr)")
        let caps = try podman.run(["run", "--rm", "--network", "none", "--cap-drop", "ALL", Podman.image,
                                   "grep", "CapEff", "/proc/self/status"])
        #expect(caps.stdout == "CapEff:\t0000000000000000\n")
    }

    @Test func terminal() throws {
        let command = (["podman"] + podman.globalArguments + ["run", "--rm", "-t", "--network", "none", Podman.image, "tty"])
            .joined(separator: " ")
        let result = try Shell.run("/usr/bin/script", ["-qc", command, "/dev/null"], environment: podman.environment)
        #expect(result.stdout.contains("/dev/pts/0"), "\(result.stdout) \(result.stderr)")
    }

    @Test func execPauseStopAndRemove() throws {
        let name = Scratch.uniqueID("web")
        #expect(try podman.run(["run", "-d", "--name", name, "--network", "none", Podman.image, "sleep", "300"]).status == 0)
        defer { _ = try? podman.run(["rm", "-f", "-t", "0", name]) }
        let exec = try podman.run(["exec", name, "sh", "-c", "echo exec-ok; exit 4"])
        #expect(exec.stdout == "exec-ok\n")
        #expect(exec.status == 4)
        #expect(try podman.run(["pause", name]).status == 0)
        #expect(try podman.run(["inspect", "--format", "{{.State.Status}}", name]).stdout == "paused\n")
        #expect(try podman.run(["unpause", name]).status == 0)
        #expect(try podman.run(["inspect", "--format", "{{.State.Status}}", name]).stdout == "running\n")
        #expect(try podman.run(["stop", "-t", "1", name]).status == 0)
        #expect(try podman.run(["inspect", "--format", "{{.State.Status}}", name]).stdout == "exited\n")
        #expect(try podman.run(["rm", name]).status == 0)
        #expect(try podman.run(["ps", "-a", "-q"]).stdout.isEmpty)
    }
}

/// A private podman (own storage, run root and containers.conf) whose OCI runtime is the
/// caisson-runtime under test, with a busybox image imported from a tarball.
final class Podman: Sendable {
    static let image = "localhost/caisson-busybox:test"
    static let available = FileManager.default.isExecutableFile(atPath: "/usr/bin/podman")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/conmon")
    static let shared = Podman()

    let directory: String
    let environment: [String: String]

    var globalArguments: [String] {
        ["--root", directory + "/storage", "--runroot", directory + "/run", "--storage-driver", "vfs",
         "--cgroup-manager", "cgroupfs", "--runtime", RuntimeDriver.binary]
    }

    private init() {
        directory = (try? Scratch.directory("podman")) ?? "/tmp/caisson-tests/podman"
        // No rlimit defaults (this host cannot raise them), cgroupfs, no journald.
        let conf = "[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
        try? conf.write(toFile: directory + "/containers.conf", atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["CONTAINERS_CONF"] = directory + "/containers.conf"
        self.environment = environment
        if let bundle = try? BusyboxBundle(args: ["true"]) {
            _ = try? Shell.run("/bin/tar", ["-C", bundle.rootfs, "-cf", directory + "/rootfs.tar", "."])
            _ = try? run(["import", directory + "/rootfs.tar", Podman.image])
        }
    }

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil) throws -> Shell.Result {
        try Shell.run("/usr/bin/podman", globalArguments + arguments, stdin: stdin, timeout: 120, environment: environment)
    }
}
