import Foundation
import Testing

/// Debian's docker CLI 20.10 (API 1.41) against caissond: the same daemon serves both
/// clients, each at its own API version.
@Suite(.serialized)
struct DockerOlderCLITests {
    static let cli = DockerDaemonFixture.olderDockerCLI
    static let hasOlderDocker = FileManager.default.isExecutableFile(atPath: cli)
    static let image = DockerDaemonFixture.image

    @Test(.enabled(if: hasOlderDocker), .timeLimit(.minutes(2)))
    func containersWithTheOlderClient() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let version = try fixture.docker(["version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}}"], cli: Self.cli)
        #expect(version.stdout == "1.41 1.45\n", "\(version.stderr)")

        let run = try fixture.docker(["run", "--rm", "--network", "none", Self.image, "sh", "-c", "echo hi; echo oops >&2; exit 2"], cli: Self.cli)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stdout == "hi\n")
        #expect(run.stderr == "oops\n")

        #expect(try fixture.docker(["run", "-d", "--name", "old", "--network", "none", Self.image, "sh", "-c", "echo up; sleep 300"],
                                   cli: Self.cli).status == 0)
        let exec = try fixture.docker(["exec", "old", "sh", "-c", "echo x; exit 4"], cli: Self.cli)
        #expect(exec.status == 4)
        #expect(exec.stdout == "x\n")
        #expect(try fixture.docker(["exec", "-i", "old", "cat"], stdin: "piped\n", cli: Self.cli).stdout == "piped\n")
        // API 1.41 has no ConsoleSize: the client sizes the terminal after the start, so
        // only its presence is certain at once (as with dockerd).
        let tty = try fixture.dockerOnTerminal(["exec", "-it", "old", "sh", "-c", "tty; exit 5"], cli: Self.cli)
        #expect(tty.status == 5)
        #expect(tty.stdout.contains("/dev/pts/"), "\(tty.stdout)")
        var logs = try fixture.docker(["logs", "old"], cli: Self.cli)
        for _ in 0..<50 where logs.stdout != "up\n" {
            usleep(100_000)
            logs = try fixture.docker(["logs", "old"], cli: Self.cli)
        }
        #expect(logs.stdout == "up\n")
        #expect(try fixture.docker(["ps", "--format", "{{.Names}} {{.State}}"], cli: Self.cli).stdout == "old running\n")
        #expect(try fixture.docker(["inspect", "-f", "{{.State.Running}} {{.Name}}", "old"], cli: Self.cli).stdout == "true /old\n")
        #expect(try fixture.docker(["stop", "-t", "1", "old"], cli: Self.cli).status == 0)
        #expect(try fixture.docker(["rm", "old"], cli: Self.cli).status == 0)
        let images = try fixture.docker(["images", "--format", "{{.Repository}}:{{.Tag}}"], cli: Self.cli)
        #expect(images.stdout == Self.image + "\n")
        #expect(try fixture.docker(["ps", "-a", "-q"], cli: Self.cli).stdout.isEmpty)
    }
}
