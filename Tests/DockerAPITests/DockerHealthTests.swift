import Foundation
import Testing

extension DockerCLITests {
    /// Health checks through the Docker API with docker's own CLI: `--health-*` flags in
    /// `Config.Healthcheck`, `State.Health` in inspect, the status text and `health=`
    /// filter of `docker ps`; docker's refusals of bad values.
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func healthChecksThroughTheAPI() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let run = try fixture.docker(["run", "-d", "--name", "web", "--network", "none", "--health-cmd", "test -f /tmp/ok",
                                      "--health-interval", "1s", "--health-retries", "2", DockerDaemonFixture.image,
                                      "sh", "-c", "sleep 1; touch /tmp/ok; sleep 60"])
        #expect(run.status == 0, "\(run.stderr)\n\(fixture.daemonLog)")
        #expect(try fixture.docker(["run", "-d", "--name", "plain", "--network", "none", "--no-healthcheck",
                                    DockerDaemonFixture.image, "sleep", "60"]).status == 0)
        let config = try fixture.docker(["inspect", "-f", "{{json .Config.Healthcheck}}", "web"])
        #expect(config.stdout == #"{"Test":["CMD-SHELL","test -f /tmp/ok"],"Interval":1000000000,"Retries":2}"# + "\n", "\(config.stderr)")
        var status = ""
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            status = try fixture.docker(["inspect", "-f", "{{.State.Health.Status}}", "web"]).stdout
            if status == "healthy\n" { break }
            #expect(status == "starting\n")
            usleep(200_000)
        }
        #expect(status == "healthy\n")
        let log = try fixture.docker(["inspect", "-f", "{{.State.Health.FailingStreak}} {{len .State.Health.Log}} {{(index .State.Health.Log 0).ExitCode}}", "web"])
        #expect(log.stdout.hasPrefix("0 ") && log.stdout.split(separator: " ").count == 3, "\(log.stdout) \(log.stderr)")
        let healthy = try fixture.docker(["ps", "--filter", "health=healthy", "--format", "{{.Names}} {{.Status}}"])
        #expect(healthy.stdout.hasPrefix("web Up ") && healthy.stdout.hasSuffix(" (healthy)\n"), "\(healthy.stdout) \(healthy.stderr)")
        #expect(try fixture.docker(["ps", "--filter", "health=none", "--format", "{{.Names}}"]).stdout == "plain\n")
        #expect(try fixture.docker(["inspect", "-f", "{{json .Config.Healthcheck.Test}}", "plain"]).stdout == "[\"NONE\"]\n")
        #expect(try fixture.caisson("ps", ["--filter", "health=healthy", "--format", "{{.Names}}"]).stdout == "web\n")

        let badFilter = try fixture.docker(["ps", "--filter", "health=sick"])
        #expect(badFilter.status != 0 && badFilter.stderr.contains("invalid value for health (sick)"), "\(badFilter.stderr)")
        let tooShort = try fixture.request("POST", "/containers/create", body: #"{"Image": "local/busybox:1", "Healthcheck": {"Test": ["CMD", "true"], "Interval": 500}, "HostConfig": {"NetworkMode": "none"}}"#)
        #expect(tooShort.status == 400 && tooShort.body.contains("Interval in Healthcheck cannot be less than 1ms"), "\(tooShort.body)")
        let unknownTest = try fixture.request("POST", "/containers/create", body: #"{"Image": "local/busybox:1", "Healthcheck": {"Test": ["HTTP", "/"]}, "HostConfig": {"NetworkMode": "none"}}"#)
        #expect(unknownTest.status == 400 && unknownTest.body.contains("Healthcheck.Test"), "\(unknownTest.body)")
    }
}
