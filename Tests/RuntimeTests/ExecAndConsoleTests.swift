import Foundation
import Testing
import CaissonShim
import OCISpec

/// exec into running containers, and terminals handed over a console socket.
@Suite(.timeLimit(.minutes(2))) struct ExecAndConsoleTests {
    @Test func execRunsInTheContainersNamespacesAndReturnsItsStatus() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sleep", "100"])
        bundle.spec.hostname = "exec-target"
        let id = try driver.runDetached(bundle, prefix: "exec")
        defer { driver.forceDelete(id) }
        let result = try driver.run(["exec", "--env", "GREETING=hi", id, "sh", "-c", "hostname; echo $GREETING; ps -o pid,comm | grep -c sleep; exit 5"])
        #expect(result.status == 5)
        #expect(result.stdout == "exec-target\nhi\n1\n")

        let user = try driver.run(["exec", "--user", "1000:1000", "--cwd", "/tmp", id, "sh", "-c", "id -u; pwd"])
        #expect(user.stdout == "1000\n/tmp\n")

        let processFile = bundle.directory + "/process.json"
        let process = Process(user: User(uid: 0, gid: 0), args: ["cat", "/proc/self/status"], env: ["PATH=/bin"], cwd: "/",
                              capabilities: Capabilities(bounding: [], effective: [], inheritable: [], permitted: [], ambient: []))
        try JSONEncoder().encode(process).write(to: URL(fileURLWithPath: processFile))
        let fromFile = try driver.run(["exec", "--process", processFile, id])
        #expect(fromFile.stdout.contains("CapEff:\t0000000000000000"))

        let missing = try driver.run(["exec", id, "no-such-program"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("executable file not found"))
    }

    @Test func detachedExecWritesItsPid() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        let id = try driver.runDetached(bundle, prefix: "execd")
        defer { driver.forceDelete(id) }
        let pidFile = bundle.directory + "/exec.pid"
        #expect(try driver.run(["exec", "-d", "--pid-file", pidFile, id, "sleep", "50"]).status == 0)
        let pid = Int(try String(contentsOfFile: pidFile, encoding: .utf8)) ?? 0
        #expect(pid > 0)
        // -d returns once the process is set up; its exec follows at once.
        var comm = ""
        for _ in 0..<200 {
            comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            if comm == "sleep\n" { break }
            usleep(5000)
        }
        #expect(comm == "sleep\n")
        let ps = try driver.run(["ps", "--format", "json", id])
        #expect(ps.stdout.contains(String(pid)))
    }

    @Test func execIntoAPausedContainerNeedsIgnorePaused() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        let id = try driver.runDetached(bundle, prefix: "paused")
        defer { driver.forceDelete(id) }
        #expect(try driver.run(["pause", id]).status == 0)
        let refused = try driver.run(["exec", id, "true"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--ignore-paused"))
        // Accepted with the flag: the process starts frozen and runs once resumed.
        let marker = "/tmp/ran-after-resume"
        #expect(try driver.run(["exec", "-d", "--ignore-paused", id, "touch", marker]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: bundle.rootfs + marker))
        #expect(try driver.run(["resume", id]).status == 0)
        var ran = false
        for _ in 0..<200 {
            ran = FileManager.default.fileExists(atPath: bundle.rootfs + marker)
            if ran { break }
            usleep(10_000)
        }
        #expect(ran)
    }

    @Test func terminalMasterArrivesOnTheConsoleSocket() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "tty; stty size; echo on-the-tty"], terminal: true)
        bundle.spec.process?.consoleSize = ConsoleSize(height: 40, width: 100)
        try bundle.write()
        let socketPath = try Scratch.directory("console") + "/console.sock"
        let listener = try ConsoleListener(path: socketPath)
        let id = Scratch.uniqueID("tty")
        let create = try driver.run(["create", "--console-socket", socketPath, "--bundle", bundle.directory, id])
        #expect(create.status == 0, "\(create.stderr)")
        let master = try listener.acceptMaster()
        defer { close(master) }
        #expect(try driver.run(["start", id]).status == 0)
        let output = readAll(master)
        #expect(output.contains("/dev/pts/0"))
        #expect(output.contains("40 100"))
        #expect(output.contains("on-the-tty"))
        for _ in 0..<200 where try driver.status(id) != "stopped" { usleep(10_000) }
        #expect(try driver.run(["delete", id]).status == 0)
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func terminalWithoutConsoleSocketIsRefusedForCreate() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh"], terminal: true)
        try bundle.write()
        let id = Scratch.uniqueID("notty")
        let result = try driver.run(["create", "--bundle", bundle.directory, id])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--console-socket"))
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    func readAll(_ fd: Int32) -> String {
        var collected = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 5000) <= 0 { break }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            collected.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: collected, as: UTF8.self)
    }
}

/// The engine's end of --console-socket: a unix socket that receives the pty master.
struct ConsoleListener {
    let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    func acceptMaster() throws -> Int32 {
        try acceptDescriptor().0
    }

    /// Accepts one connection and returns the descriptor it carries and the message text.
    func acceptDescriptor() throws -> (Int32, String) {
        let connection = accept(fd, nil, nil)
        defer { close(connection); close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var received: Int32 = -1
        let count = caisson_recv_fd(connection, &buffer, buffer.count, &received)
        guard received >= 0, count > 0 else { throw POSIXError(.EBADF) }
        return (received, String(decoding: buffer[0..<count], as: UTF8.self))
    }
}
