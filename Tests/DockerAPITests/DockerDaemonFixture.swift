@_exported import CaissonTestSupport
import Foundation

/// A private caissond serving only the Docker Engine API (`--cri-socket ""`) on its own
/// --root, --runroot and socket, with a busybox image imported into that root by the
/// built `caisson`, and the docker CLI pointed at it (DOCKER_HOST, an empty DOCKER_CONFIG).
final class DockerDaemonFixture: @unchecked Sendable {
    static let image = "local/busybox:1"
    static let dockerCLI = "/usr/local/bin/docker"
    /// Debian's docker.io client (API 1.41), which negotiates down from the server's version.
    static let olderDockerCLI = "/usr/bin/docker"

    let directory: String
    let root: String
    let runRoot: String
    let socketPath: String
    private(set) var daemon: BackgroundProcess

    /// The directory of the built binaries (caisson, caissond, caisson-monitor).
    static let binDirectory = BuiltBinaries.directory

    /// The repository's checkout (for scripts/make-busybox-bundle).
    static func source(_ path: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(path).path
    }

    init() throws {
        directory = try Scratch.directory("dockerapi")
        root = directory + "/root"
        runRoot = directory + "/run"
        socketPath = directory + "/docker.sock"
        try FileManager.default.createDirectory(atPath: directory + "/docker-config", withIntermediateDirectories: true)
        let bundle = try Shell.run("/bin/bash", [DockerDaemonFixture.source("scripts/make-busybox-bundle"), directory + "/bundle"])
        guard bundle.status == 0 else { throw FixtureError(what: "make-busybox-bundle", output: bundle.stderr) }
        let tar = try Shell.run("/bin/tar", ["-C", directory + "/bundle/rootfs", "-cf", directory + "/rootfs.tar", "."])
        guard tar.status == 0 else { throw FixtureError(what: "tar", output: tar.stderr) }
        let imported = try Shell.run(DockerDaemonFixture.binDirectory + "/caisson",
                                     ["import", "--root", root, "--runroot", runRoot, directory + "/rootfs.tar", DockerDaemonFixture.image])
        guard imported.status == 0 else { throw FixtureError(what: "caisson import", output: imported.stderr) }
        try "".write(toFile: directory + "/caissond.toml", atomically: true, encoding: .utf8)
        daemon = try DockerDaemonFixture.startDaemon(root: root, runRoot: runRoot, socketPath: socketPath, directory: directory)
    }

    static func startDaemon(root: String, runRoot: String, socketPath: String, directory: String) throws -> BackgroundProcess {
        let daemon = try BackgroundProcess(DockerDaemonFixture.binDirectory + "/caissond", [
            "--root", root, "--runroot", runRoot, "--cri-socket", "", "--docker-socket", socketPath,
            "--config", directory + "/caissond.toml",
        ], log: directory + "/caissond.log")
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socketPath) {
            var status: Int32 = 0
            guard Date() < deadline, waitpid(daemon.pid, &status, WNOHANG) == 0 else {
                throw FixtureError(what: "caissond", output: (try? String(contentsOfFile: directory + "/caissond.log", encoding: .utf8)) ?? "")
            }
            usleep(20_000)
        }
        return daemon
    }

    /// Stops the daemon (SIGTERM, or SIGKILL if `kill` is set) and starts a new one on
    /// the same root, run root and socket; its exit status (0 for a clean stop).
    @discardableResult
    func restartDaemon(killing: Bool = false) throws -> Int32 {
        kill(daemon.pid, killing ? SIGKILL : SIGTERM)
        var status: Int32 = 0
        while waitpid(daemon.pid, &status, 0) < 0 && errno == EINTR {}
        if killing { unlink(socketPath) }
        while FileManager.default.fileExists(atPath: socketPath) { usleep(10_000) }
        daemon = try DockerDaemonFixture.startDaemon(root: root, runRoot: runRoot, socketPath: socketPath, directory: directory)
        return killing ? 0 : (status >> 8) & 0xff
    }

    var daemonLog: String { (try? String(contentsOfFile: directory + "/caissond.log", encoding: .utf8)) ?? "" }

    /// `docker ARGS...` against this daemon.
    @discardableResult
    func docker(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 60,
                cli: String = DockerDaemonFixture.dockerCLI) throws -> Shell.Result {
        try Shell.run(cli, arguments, stdin: stdin, timeout: timeout, environment: dockerEnvironment)
    }

    /// The environment that points the docker CLI at this daemon.
    var dockerEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = "unix://" + socketPath
        environment["DOCKER_CONFIG"] = directory + "/docker-config"
        // The classic builder's API (`POST /build`); CLI 28 would otherwise want buildx.
        environment["DOCKER_BUILDKIT"] = "0"
        return environment
    }

    /// `docker ARGS...` on a terminal of its own (script(1) gives it a pty of 30x100),
    /// for -t; its output as the terminal showed it and its exit status.
    /// `typing`, if given, is a shell command whose output is what is typed (so that keys
    /// can come with pauses between them).
    func dockerOnTerminal(_ arguments: [String], typing: String? = nil, timeout: TimeInterval = 60,
                          cli: String = DockerDaemonFixture.dockerCLI) throws -> Shell.Result {
        let command = "stty rows 30 cols 100; exec " + ([cli] + arguments).map(Shell.quote).joined(separator: " ")
        let script = "/usr/bin/script -qec " + Shell.quote(command) + " /dev/null"
        var result = try Shell.run("/bin/bash", ["-c", typing.map { "(\($0)) | " + script } ?? script + " </dev/null"],
                                   timeout: timeout, environment: dockerEnvironment)
        // script(1) may pass on a NUL for the end of its input, which the terminal echoes as ^@.
        result.stdout = result.stdout.replacingOccurrences(of: "\u{0}", with: "").replacingOccurrences(of: "^@", with: "")
        return result
    }

    /// `caisson COMMAND --root R --runroot RR ARGS...` on the daemon's state.
    @discardableResult
    /// `caisson COMMAND` with this daemon's root and run root; COMMAND may be a group and
    /// its subcommand ("network ls"): the options follow both.
    func caisson(_ command: String, _ arguments: [String]) throws -> Shell.Result {
        let words = command.split(separator: " ").map(String.init)
        return try Shell.run(DockerDaemonFixture.binDirectory + "/caisson", words + ["--root", root, "--runroot", runRoot] + arguments)
    }

    /// One raw HTTP/1.1 request over the socket; the status code and body.
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String] = []) throws -> (status: Int, body: String) {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
        for header in headers { text += header + "\r\n" }
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        let whole = String(decoding: try exchange(Array(text.utf8)), as: UTF8.self)
        let status = whole.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let responseBody = whole.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, responseBody)
    }

    /// Writes bytes to a new connection (closing our writing side if asked) and reads
    /// everything until the daemon closes it.
    func exchange(_ bytes: [UInt8], halfClose: Bool = false) throws -> [UInt8] {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError(what: "socket", output: String(cString: strerror(errno))) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in self.socketPath.utf8.prefix(buffer.count - 1).enumerated() { buffer[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw FixtureError(what: "connect", output: String(cString: strerror(errno))) }
        guard write(fd, bytes, bytes.count) == bytes.count else { throw FixtureError(what: "write", output: "") }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return response
    }

    /// Removes the containers made here, stops the daemon with SIGTERM, resets the root
    /// (its networks' bridges and iptables rules, its volumes) and removes the scratch
    /// directory; the daemon's exit status (0 for a clean stop).
    func tearDown() -> Int32 {
        if let ids = try? caisson("ps", ["-a", "-q", "--no-trunc"]).stdout.split(separator: "\n"), !ids.isEmpty {
            _ = try? caisson("rm", ["-f"] + ids.map(String.init))
        }
        kill(daemon.pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<500 {
            if waitpid(daemon.pid, &status, WNOHANG) == daemon.pid {
                _ = try? caisson("system reset", ["--force"])
                try? FileManager.default.removeItem(atPath: directory)
                return (status >> 8) & 0xff
            }
            usleep(10_000)
        }
        daemon.stop()
        return -1
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let what: String
    let output: String
    var description: String { "\(what) failed: \(output)" }
}
