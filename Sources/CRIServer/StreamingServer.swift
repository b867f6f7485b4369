#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import CRIProto
import SPDY

/// The HTTP server behind the URLs Exec, Attach and PortForward return: it upgrades
/// each connection to SPDY/3.1 and speaks Kubernetes' remote-command protocol
/// (`v4.channel.k8s.io` and older) or `portforward.k8s.io` on it. One thread per
/// connection; processes are spawned (never forked) and namespaces entered by a helper.
public final class StreamingServer: Sendable {
    let manager: PodManager
    let requests: StreamingRequests
    private let listener: Int32
    public let baseURL: String

    private init(manager: PodManager, requests: StreamingRequests, listener: Int32, baseURL: String) {
        self.manager = manager
        self.requests = requests
        self.listener = listener
        self.baseURL = baseURL
    }

    /// Listens on host:port (port 0: any) and starts accepting.
    public static func start(manager: PodManager, requests: StreamingRequests, host: String, port: Int) async throws -> StreamingServer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SysError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw SysError("the stream address \(host) is not an IPv4 address", errno: EINVAL)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let error = SysError("bind \(host):\(port)")
            close(fd)
            throw error
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let url = "http://\(host):\(UInt16(bigEndian: actual.sin_port))"
        requests.setBaseURL(url)
        let server = StreamingServer(manager: manager, requests: requests, listener: fd, baseURL: url)
        DetachedThread.start { server.acceptLoop() }
        return server
    }

    /// accept(2), close-on-exec (another thread may be spawning a process right now).
    static func acceptConnection(_ listener: Int32) -> Int32 {
        let fd = accept(listener, nil, nil)
        if fd >= 0 { _ = caisson_fcntl_int(fd, F_SETFD, FD_CLOEXEC) }
        return fd
    }

    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        while true {
            let connection = StreamingServer.acceptConnection(listener)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            DetachedThread.start { [self] in
                serve(connection)
                close(connection)
            }
        }
    }

    // MARK: HTTP upgrade

    private struct Upgrade {
        var method = ""
        var path = ""
        var headers: [String: [String]] = [:]
        var rest: [UInt8] = []
    }

    private func readRequest(_ fd: Int32) -> Upgrade? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
            if buffer.count > 65536 { return nil }
            if buffer.count >= 4 {
                headerEnd = (0...(buffer.count - 4)).first { buffer[$0..<($0 + 4)].elementsEqual(end) }
            }
        }
        guard let headerEnd else { return nil }
        let text = String(decoding: buffer[0..<headerEnd], as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return nil }
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var request = Upgrade()
        request.method = String(requestLine[0])
        request.path = String(requestLine[1].split(separator: "?", maxSplits: 1).first ?? "")
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = Text.asciiLowercased(String(line[..<colon]))
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t")
            for item in value.split(separator: ",") {
                request.headers[name, default: []].append(String(item).trimmingCharacters(in: " \t"))
            }
        }
        request.rest = Array(buffer[(headerEnd + 4)...])
        return request
    }

    private func respond(_ fd: Int32, status: String, body: String) {
        let text = "HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n" + body
        try? Files.writeAll(fd: fd, bytes: Array(text.utf8))
    }

    private func serve(_ fd: Int32) {
        guard let upgrade = readRequest(fd) else { return }
        let parts = upgrade.path.split(separator: "/").map(String.init)
        guard parts.count == 2, ["exec", "attach", "portforward"].contains(parts[0]) else {
            respond(fd, status: "404 Not Found", body: "no such streaming endpoint \(upgrade.path)\n")
            return
        }
        guard let request = requests.take(parts[1]), request.path == parts[0] else {
            respond(fd, status: "404 Not Found", body: "unknown or expired streaming token\n")
            return
        }
        let upgradeTo = (upgrade.headers["upgrade"] ?? []).map(Text.asciiLowercased)
        guard upgradeTo.contains("spdy/3.1") else {
            respond(fd, status: "400 Bad Request", body: "this endpoint needs Upgrade: SPDY/3.1 (WebSocket streaming is not supported)\n")
            return
        }
        let offered = upgrade.headers["x-stream-protocol-version"] ?? []
        let supported: [String]
        if case .portForward = request {
            supported = ["portforward.k8s.io"]
        } else {
            supported = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]
        }
        guard let chosen = supported.first(where: { offered.contains($0) }) ?? (offered.isEmpty ? supported.last : nil) else {
            respond(fd, status: "403 Forbidden", body: "none of the offered stream protocols \(offered) is supported (\(supported))\n")
            return
        }
        let reply = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
            + "X-Stream-Protocol-Version: \(chosen)\r\n\r\n"
        guard (try? Files.writeAll(fd: fd, bytes: Array(reply.utf8))) != nil else { return }
        let framer: SPDYFramer
        do { framer = try SPDYFramer(fd: fd, pending: upgrade.rest) } catch { return }
        switch request {
        case .exec(let exec):
            RemoteCommandSession(manager: manager, framer: framer, protocolVersion: chosen).runExec(exec)
        case .attach(let attach):
            RemoteCommandSession(manager: manager, framer: framer, protocolVersion: chosen).runAttach(attach)
        case .portForward(let forward):
            PortForwardSession(manager: manager, framer: framer).run(forward)
        }
    }
}

/// A thread of its own for blocking work that lasts (a streaming connection).
enum DetachedThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func start(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if created == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<Box>.fromOpaque(box).release()
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var text = Substring(self)
        while let first = text.first, characters.contains(first) { text = text.dropFirst() }
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
