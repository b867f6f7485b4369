import Foundation
import Testing

/// Debian's docker-compose 1.29 against caissond: a three-service project with a service
/// built from a Dockerfile, a published port, a named volume, a user network with an
/// alias, depends_on on a healthy service and environment, through up, ps, logs, exec,
/// restart and down -v.
@Suite(.serialized)
struct DockerComposeTests {
    static let compose = "/usr/bin/docker-compose"
    static let hasCompose = DockerCLITests.hasDocker && FileManager.default.isExecutableFile(atPath: compose)

    @Test(.enabled(if: hasCompose), .timeLimit(.minutes(3)))
    func threeServiceProject() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let project = fixture.directory + "/project"
        try FileManager.default.createDirectory(atPath: project + "/web", withIntermediateDirectories: true)
        try "served by web\n".write(toFile: project + "/web/index.html", atomically: true, encoding: .utf8)
        try """
            FROM \(DockerDaemonFixture.image)
            COPY index.html /www/index.html
            CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
            """.write(toFile: project + "/web/Dockerfile", atomically: true, encoding: .utf8)
        let port = Int.random(in: 20000..<30000)
        try """
            version: "2.4"
            services:
              db:
                image: \(DockerDaemonFixture.image)
                command: ["sh", "-c", "echo db-ready; echo ready > /data/state; exec httpd -f -p 5432 -h /data"]
                volumes: ["dbdata:/data"]
                networks:
                  backend:
                    aliases: [database]
                healthcheck:
                  test: ["CMD", "test", "-f", "/data/state"]
                  interval: 1s
                  retries: 10
              web:
                build: ./web
                image: compose/web:1
                ports: ["127.0.0.1:\(port):80"]
                environment:
                  GREETING: hello
                networks: [backend]
                depends_on:
                  db: {condition: service_healthy}
              client:
                image: \(DockerDaemonFixture.image)
                command: ["sleep", "300"]
                networks: [backend]
                depends_on: [web]
            volumes:
              dbdata:
            networks:
              backend:
            """.write(toFile: project + "/docker-compose.yml", atomically: true, encoding: .utf8)
        func compose(_ arguments: [String]) throws -> Shell.Result {
            try Shell.run("/bin/sh", ["-c", "cd \(Shell.quote(project)) && exec \(Self.compose) -p ctest " + arguments.map(Shell.quote).joined(separator: " ")],
                          timeout: 120, environment: fixture.dockerEnvironment)
        }

        let up = try compose(["up", "-d"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)\n\(fixture.daemonLog)")
        let ps = try compose(["ps"])
        #expect(ps.stdout.contains("ctest_db_1") && ps.stdout.contains("(healthy)"), "\(ps.stdout)")
        #expect(ps.stdout.contains("ctest_web_1") && ps.stdout.contains("127.0.0.1:\(port)->80/tcp"), "\(ps.stdout)")
        #expect(ps.stdout.contains("ctest_client_1"), "\(ps.stdout)")

        let page = try Shell.run("/bin/busybox", ["wget", "-qO-", "http://127.0.0.1:\(port)/"], timeout: 20)
        #expect(page.stdout == "served by web\n", "\(page.stderr)")
        let byAlias = try compose(["exec", "-T", "client", "wget", "-qO-", "http://database:5432/state"])
        #expect(byAlias.stdout == "ready\n", "\(byAlias.stdout)\(byAlias.stderr)")
        let env = try compose(["exec", "-T", "web", "sh", "-c", "echo $GREETING"])
        #expect(env.stdout == "hello\n", "\(env.stderr)")
        let logs = try compose(["logs", "db"])
        #expect(logs.stdout.contains("db-ready"), "\(logs.stdout)\(logs.stderr)")

        let restart = try compose(["restart", "-t", "1", "web"])
        #expect(restart.status == 0, "\(restart.stderr)")
        var again = try Shell.run("/bin/busybox", ["wget", "-qO-", "http://127.0.0.1:\(port)/"], timeout: 20)
        for _ in 0..<50 where again.stdout != "served by web\n" {
            usleep(100_000)
            again = try Shell.run("/bin/busybox", ["wget", "-qO-", "http://127.0.0.1:\(port)/"], timeout: 20)
        }
        #expect(again.stdout == "served by web\n")

        let down = try compose(["down", "-v", "-t", "1"])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(try fixture.docker(["ps", "-a", "-q"]).stdout.isEmpty)
        #expect(!(try fixture.docker(["volume", "ls", "-q"]).stdout.contains("ctest_dbdata")))
        #expect(!(try fixture.docker(["network", "ls", "--format", "{{.Name}}"]).stdout.contains("ctest_backend")))
    }
}
