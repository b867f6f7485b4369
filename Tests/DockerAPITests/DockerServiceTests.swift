import Foundation
import Testing

/// `caisson system service` (the API without a daemon) and the listeners' options:
/// a loopback TCP address, a socket another process serves left alone, and
/// non-loopback TCP refused.
@Suite(.serialized)
struct DockerServiceTests {
    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func serviceInTheForeground() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let caisson = DockerDaemonFixture.binDirectory + "/caisson"
        let global = ["--root", fixture.root, "--runroot", fixture.runRoot]

        // caissond's socket is not taken over; non-loopback TCP is refused.
        let taken = try Shell.run(caisson, ["system", "service"] + global + ["--socket", fixture.socketPath], timeout: 20)
        #expect(taken.status != 0)
        #expect(taken.stderr.contains("another process is serving it"), "\(taken.stderr)")
        let open = try Shell.run(caisson, ["system", "service"] + global + ["--socket", "", "--tcp", "0.0.0.0:2375"], timeout: 20)
        #expect(open.status != 0)
        #expect(open.stderr.contains("only loopback addresses"), "\(open.stderr)")

        let socket = fixture.directory + "/service.sock"
        let service = try BackgroundProcess(caisson, ["system", "service"] + global + ["--socket", socket, "--tcp", "127.0.0.1:0"],
                                            log: fixture.directory + "/service.log")
        var log = ""
        for _ in 0..<200 where !log.contains("tcp://") {
            usleep(25_000)
            log = (try? String(contentsOfFile: fixture.directory + "/service.log", encoding: .utf8)) ?? ""
        }
        let address = try #require(log.split(separator: "\n").first { $0.contains("tcp://") }?
            .split(separator: " ").first { $0.hasPrefix("tcp://") }.map(String.init), "\(log)")
        let overTCP = try fixture.docker(["-H", address, "run", "--rm", "--network", "none", DockerDaemonFixture.image, "echo", "over-tcp"])
        #expect(overTCP.stdout == "over-tcp\n", "\(overTCP.stderr)")
        // The same engine as caissond's: a container made through one is seen through the other.
        #expect(try fixture.docker(["-H", "unix://" + socket, "create", "--name", "seen", "--network", "none", DockerDaemonFixture.image, "true"]).status == 0)
        #expect(try fixture.docker(["ps", "-a", "--format", "{{.Names}}"]).stdout == "seen\n")
        kill(service.pid, SIGINT)
        var status: Int32 = 0
        waitpid(service.pid, &status, 0)
        #expect((status >> 8) & 0xff == 0)
        #expect(!FileManager.default.fileExists(atPath: socket))
    }
}
