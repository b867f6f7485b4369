import Foundation
import Testing

/// The Docker SDK for Python (docker-py, 7.x from PyPI) against caissond: its high-level
/// and low-level APIs for containers, exec, attach sockets, images, networks, volumes
/// and errors (Tests/Fixtures/dockerapi/docker_py_checks.py).
@Suite(.serialized)
struct DockerPyTests {
    static let hasDockerPy = DockerCLITests.hasDocker
        && ((try? Shell.run("/usr/bin/env", ["python3", "-c", "import docker"]).status) ?? 1) == 0

    @Test(.enabled(if: hasDockerPy), .timeLimit(.minutes(3)))
    func sdkChecks() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        var environment = fixture.dockerEnvironment
        environment["IMAGE"] = DockerDaemonFixture.image
        environment["REGISTRY"] = registry.host
        let script = DockerDaemonFixture.source("Tests/Fixtures/dockerapi/docker_py_checks.py")
        let run = try Shell.run("/usr/bin/env", ["python3", script], timeout: 150, environment: environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)\n\(fixture.daemonLog)")
        for check in ["ping-version", "run-foreground", "detached-exec-logs-wait", "attach-socket-stdin", "errors", "images",
                      "networks-volumes", "archives-stats-events", "build-push-pull", "commit", "clone-from-inspect"] {
            #expect(run.stdout.contains("ok \(check)\n"), "\(check) did not pass:\n\(run.stdout)\n\(run.stderr)")
        }
        #expect(try fixture.docker(["ps", "-a", "-q"]).stdout.isEmpty)
    }

    /// Fifty clients creating, starting, exec'ing in and removing containers at once, with
    /// a followed log open: nothing lost or made twice, nothing left, the API still quick.
    @Test(.enabled(if: hasDockerPy), .timeLimit(.minutes(3)))
    func fiftyClientsAtOnce() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        var environment = fixture.dockerEnvironment
        environment["IMAGE"] = DockerDaemonFixture.image
        environment["CLIENTS"] = "50"
        let script = DockerDaemonFixture.source("Tests/Fixtures/dockerapi/docker_py_load.py")
        let run = try Shell.run("/usr/bin/env", ["python3", script], timeout: 170, environment: environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)\n\(fixture.daemonLog)")
        #expect(run.stdout.contains("load ok\n"), "\(run.stdout)")
        #expect(try fixture.docker(["ps", "-a", "-q"]).stdout.isEmpty)
    }
}
