import Foundation
import Testing

/// Hijacked connections: `docker run` in the foreground (attach before start, stdin,
/// terminals, exit statuses), `docker start -a`, `docker attach` with detach keys,
/// `docker exec` in all its forms, and the upgrade as raw HTTP shows it.
@Suite(.serialized)
struct DockerAttachExecTests {
    static let hasDocker = DockerCLITests.hasDocker
    static let image = DockerDaemonFixture.image

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func runInTheForeground() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        // stdout and stderr kept apart, the exit status passed on, nothing left by --rm.
        let run = try fixture.docker(["run", "--rm", "--network", "none", Self.image, "sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(run.status == 3, "\(run.stderr)\n\(fixture.daemonLog)")
        #expect(run.stdout == "out\n")
        #expect(run.stderr == "err\n")
        // A container that exits at once, removed before anyone looks: its status still comes back.
        for _ in 0..<3 {
            #expect(try fixture.docker(["run", "--rm", "--network", "none", Self.image, "sh", "-c", "exit 7"]).status == 7)
        }
        #expect(try fixture.docker(["ps", "-a", "-q"]).stdout == "")

        // stdin with -i: the container's stdin closes when ours ends.
        let cat = try fixture.docker(["run", "-i", "--rm", "--network", "none", Self.image, "sh", "-c", "cat; echo done"],
                                     stdin: "line one\nline two\n")
        #expect(cat.status == 0, "\(cat.stderr)")
        #expect(cat.stdout == "line one\nline two\ndone\n")

        // A terminal: -it, with the client's size.
        let tty = try fixture.dockerOnTerminal(["run", "-it", "--rm", "--network", "none", Self.image, "sh", "-c", "tty; stty size; exit 4"])
        #expect(tty.status == 4, "\(tty.stdout)\(tty.stderr)")
        #expect(tty.stdout.contains("/dev/pts/0\r\n30 100\r\n"), "\(tty.stdout)")

        // start -a of a created container, and again: each start is waited for.
        #expect(try fixture.docker(["create", "--name", "once", "--network", "none", Self.image, "sh", "-c", "echo started; exit 2"]).status == 0)
        for _ in 0..<2 {
            let start = try fixture.docker(["start", "-a", "once"], timeout: 30)
            #expect(start.status == 2, "\(start.stderr)")
            #expect(start.stdout == "started\n")
        }
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func execInARunningContainer() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["run", "-d", "--name", "box", "--network", "none", Self.image, "sleep", "300"]).status == 0)

        let exec = try fixture.docker(["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 5"])
        #expect(exec.status == 5, "\(exec.stderr)\n\(fixture.daemonLog)")
        #expect(exec.stdout == "out\n")
        #expect(exec.stderr == "err\n")

        let input = try fixture.docker(["exec", "-i", "box", "sh", "-c", "cat; echo end"], stdin: "abc\n")
        #expect(input.stdout == "abc\nend\n", "\(input.stderr)")

        let settings = try fixture.docker(["exec", "-u", "nobody", "-w", "/tmp", "-e", "FOO=bar", "box", "sh", "-c", "id -u; pwd; echo $FOO"])
        #expect(settings.stdout == "65534\n/tmp\nbar\n", "\(settings.stderr)")

        let missing = try fixture.docker(["exec", "box", "nosuch"])
        #expect(missing.status == 127)
        #expect((missing.stdout + missing.stderr).contains("executable file not found"), "\(missing.stdout)\(missing.stderr)")

        #expect(try fixture.docker(["exec", "-d", "box", "sh", "-c", "echo detached > /tmp/mark"]).status == 0)
        var mark = try fixture.docker(["exec", "box", "cat", "/tmp/mark"])
        for _ in 0..<50 where mark.stdout != "detached\n" {
            usleep(100_000)
            mark = try fixture.docker(["exec", "box", "cat", "/tmp/mark"])
        }
        #expect(mark.stdout == "detached\n")

        let tty = try fixture.dockerOnTerminal(["exec", "-it", "box", "sh", "-c", "tty; stty size; exit 3"])
        #expect(tty.status == 3, "\(tty.stdout)\(tty.stderr)")
        #expect(tty.stdout.contains("/dev/pts/"), "\(tty.stdout)")
        #expect(tty.stdout.contains("30 100\r\n"), "\(tty.stdout)")

        // The exec instance as the API documents it, once it has ended.
        let created = try fixture.request("POST", "/v1.45/containers/box/exec", body: #"{"Cmd":["sh","-c","exit 9"]}"#)
        #expect(created.status == 201, "\(created.body)")
        let execID = try #require(created.body.split(separator: "\"").dropFirst(3).first.map(String.init))
        #expect(try fixture.request("POST", "/v1.45/exec/\(execID)/start", body: #"{"Detach":true}"#).status == 200)
        var inspect = try fixture.request("GET", "/v1.45/exec/\(execID)/json")
        for _ in 0..<50 where !inspect.body.contains("\"ExitCode\":9") {
            usleep(100_000)
            inspect = try fixture.request("GET", "/v1.45/exec/\(execID)/json")
        }
        #expect(inspect.body.contains("\"ExitCode\":9"), "\(inspect.body)")
        #expect(inspect.body.contains("\"Running\":false"))
        #expect(try fixture.docker(["inspect", "-f", "{{len .ExecIDs}}", "box"]).stdout != "0\n")
        #expect(try fixture.request("POST", "/v1.45/exec/\(execID)/start", body: "{}").status == 409)
        #expect(try fixture.request("GET", "/v1.45/exec/nosuch/json").status == 404)
        #expect(try fixture.request("POST", "/v1.45/containers/box/exec", body: #"{"Cmd":[]}"#).status == 400)

        #expect(try fixture.docker(["stop", "-t", "0", "box"]).status == 0)
        let stopped = try fixture.docker(["exec", "box", "true"])
        #expect(stopped.status != 0)
        #expect(stopped.stderr.contains("is not running"), "\(stopped.stderr)")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func attachAndDetach() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["run", "-d", "-it", "--name", "shell", "--network", "none", Self.image, "sh"]).status == 0)
        // Typed input reaches the shell; ctrl-p ctrl-q detaches and leaves it running.
        let attached = try fixture.dockerOnTerminal(["attach", "shell"], typing: #"printf 'echo via-$((40+2))\n'; sleep 1; printf '\020\021'"#,
                                                    timeout: 20)
        #expect(attached.stdout.contains("via-42"), "\(attached.stdout)\(attached.stderr)")
        #expect(try fixture.docker(["inspect", "-f", "{{.State.Running}}", "shell"]).stdout == "true\n")

        // Output only, until the container exits with its status.
        #expect(try fixture.docker(["run", "-d", "--name", "talker", "--network", "none", Self.image,
                                    "sh", "-c", "sleep 1; echo late; echo later >&2; exit 6"]).status == 0)
        let output = try fixture.docker(["attach", "talker"], timeout: 30)
        #expect(output.status == 6, "\(output.stderr)")
        #expect(output.stdout == "late\n")
        #expect(output.stderr == "later\n")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func upgradeOverRawHTTP() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let created = try fixture.request("POST", "/v1.45/containers/create?name=echo", body: """
            {"Image":"\(Self.image)","Cmd":["cat"],"OpenStdin":true,"StdinOnce":true,"AttachStdin":true,
             "HostConfig":{"NetworkMode":"none"}}
            """)
        #expect(created.status == 201, "\(created.body)")
        #expect(try fixture.request("POST", "/v1.45/containers/echo/start").status == 204)
        // Our input, then end of it: cat echoes it and exits, the daemon closes the connection.
        let request = "POST /v1.45/containers/echo/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\n"
            + "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\nhello\n"
        let reply = try fixture.exchange(Array(request.utf8), halfClose: true)
        let text = String(decoding: reply, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 101 UPGRADED\r\n"), "\(text)")
        #expect(text.contains("Content-Type: application/vnd.docker.multiplexed-stream\r\n"))
        #expect(text.contains("Upgrade: tcp\r\n"))
        let body = Array(reply.split(separator: 0x0a, omittingEmptySubsequences: false).drop { !$0.isEmpty && $0 != [0x0d] }
            .dropFirst().joined(separator: [0x0a]))
        #expect(body == [1, 0, 0, 0, 0, 0, 0, 6] + Array("hello\n".utf8), "\(body)")
        var state = try fixture.docker(["inspect", "-f", "{{.State.Status}}", "echo"])
        for _ in 0..<50 where state.stdout != "exited\n" {
            usleep(100_000)
            state = try fixture.docker(["inspect", "-f", "{{.State.Status}}", "echo"])
        }
        #expect(state.stdout == "exited\n")

        // Errors come before any upgrade, as plain responses.
        let missing = try fixture.request("POST", "/v1.45/containers/nosuch/attach?stream=1&stdout=1",
                                          headers: ["Upgrade: tcp", "Connection: Upgrade"])
        #expect(missing.status == 404)
        #expect(missing.body.contains("No such container: nosuch"))
        let keys = try fixture.request("POST", "/v1.45/containers/echo/attach?stream=1&detachKeys=ctrl-%E2%82%AC")
        #expect(keys.status == 400, "\(keys.body)")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func requestsAsBytes() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        func exchange(_ text: String) throws -> String { String(decoding: try fixture.exchange(Array(text.utf8)), as: UTF8.self) }
        // Two requests in one write on a kept-alive connection: two answers in order.
        let pipelined = try exchange("GET /_ping HTTP/1.1\r\nHost: d\r\n\r\nGET /v1.45/version HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
        #expect(pipelined.components(separatedBy: "HTTP/1.1 200 OK").count == 3, "\(pipelined)")
        #expect(pipelined.contains("\r\n\r\nOK") && pipelined.contains("\"ApiVersion\":\"1.45\""))
        // A chunked body.
        let chunked = try exchange("POST /v1.45/volumes/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n"
            + "Connection: close\r\nContent-Type: application/json\r\n\r\n8\r\n{\"Name\":\r\n9\r\n\"chunked\"\r\n1\r\n}\r\n0\r\n\r\n")
        #expect(chunked.hasPrefix("HTTP/1.1 201 Created\r\n"), "\(chunked)")
        #expect(try fixture.docker(["volume", "ls", "-q"]).stdout == "chunked\n")
        // Broken requests: a status naming the problem, and the daemon goes on.
        #expect(try exchange("GARBAGE\r\n\r\n").hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(try exchange("GET /_ping HTTP/2.0\r\n\r\n").hasPrefix("HTTP/1.1 505 HTTP Version Not Supported\r\n"))
        let huge = try exchange("GET /_ping HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 70_000) + "\r\n\r\n")
        #expect(huge.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "\(huge.prefix(200))")
        let badChunk = try exchange("POST /v1.45/volumes/create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        #expect(badChunk.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(badChunk)")
        #expect(try exchange("POST /v1.45/volumes/create HTTP/1.1\r\nContent-Length: 12\r\nContent-Length: 13\r\n\r\n")
            .hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(try fixture.request("GET", "/_ping").status == 200)
    }
}

/// caissond stopped (or killed) and started again under running containers: they keep
/// running (each has its monitor) and the new daemon manages them.
@Suite(.serialized)
struct DockerDaemonRestartTests {
    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func containersOutliveTheDaemon() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let image = DockerDaemonFixture.image
        #expect(try fixture.docker(["run", "-d", "--name", "lasting", "--network", "none", image, "sh", "-c", "echo before; sleep 300"]).status == 0)
        let pid = try fixture.docker(["inspect", "-f", "{{.State.Pid}}", "lasting"]).stdout
        for killing in [false, true] {
            #expect(try fixture.restartDaemon(killing: killing) == 0, "\(fixture.daemonLog)")
            #expect(try fixture.docker(["inspect", "-f", "{{.State.Pid}}", "lasting"]).stdout == pid)
            #expect(try fixture.docker(["ps", "--format", "{{.Names}} {{.State}}"]).stdout == "lasting running\n")
            #expect(try fixture.docker(["exec", "lasting", "echo", "still"]).stdout == "still\n")
        }
        #expect(try fixture.docker(["logs", "lasting"]).stdout == "before\n")
        #expect(try fixture.docker(["stop", "-t", "0", "lasting"]).status == 0)
        #expect(try fixture.docker(["wait", "lasting"]).stdout == "137\n")
    }
}
