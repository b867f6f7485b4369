#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The Docker Engine API's HTTP/1.1 server on a unix socket, on SwiftNIO channels of raw
/// bytes: requests are read by `ConnectionReader`/`HTTPRequestHead` and responses written
/// by `ResponseHead`, so that attach and exec can take a connection over after their
/// request (the stdin that follows is not HTTP). Each connection serves requests one
/// after another (keep-alive) until the client closes it; a client may half-close (stdin
/// at end) and still read a hijacked stream.
public final class DockerAPIServer: Sendable {
    /// Bodies kept in memory above this are refused (a create request is a few kilobytes).
    static let maximumBodySize = 8 * 1024 * 1024

    let router: Router
    /// The unix socket's path ("" for TCP).
    let socketPath: String
    /// Where bodies of `.file` routes are written (removed after each response).
    let spoolDirectory: String
    let group: MultiThreadedEventLoopGroup
    let serverChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    /// Where the API is served: a unix socket (mode, and group if given), or TCP, with TLS
    /// if given (only on a loopback address without verified clients: anyone who reaches
    /// the port is root here).
    public enum Address: Sendable, CustomStringConvertible {
        case unix(path: String, mode: mode_t, group: gid_t?)
        case tcp(host: String, port: Int, tls: DockerAPITLS?)

        public var description: String {
            switch self {
            case .unix(let path, _, _): return path
            case .tcp(let host, let port, _): return host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
            }
        }
    }

    /// Binds (a stale socket file is replaced); `serve` accepts.
    public static func bind(_ address: Address, spoolDirectory: String, router: Router) async throws -> DockerAPIServer {
        try Files.makeDirectories(spoolDirectory, mode: 0o700)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
            let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
            // Bytes in and out; over TLS, the decrypted bytes (NIOSSL half-closes as TCP does,
            // so a client's end of stdin still reaches an attach).
            var context: NIOSSLContext?
            if case .tcp(_, _, let tls?) = address { context = try tls.makeContext() }
            let wrap: @Sendable (Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { [context] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
            var socketPath = ""
            switch address {
            case .unix(let path, let mode, let owner):
                socketPath = path
                // A socket someone answers on is theirs (caissond's, another service's): never taken over.
                if let probe = try? UnixSocket.connect(path) {
                    Glibc.close(probe)
                    throw DockerAPIServerError.socket(path: path, reason: "another process is serving it")
                }
                // Bound and given its mode under a neighbouring name, then renamed into place: the
                // path appears only once it is listening with its final mode, so a client that
                // waits for the file is never refused, nor let in before the chmod.
                let pending = path.utf8.count < 107 ? path + "~" : path
                channel = try await bootstrap.bind(unixDomainSocketPath: pending, cleanupExistingSocketFile: true,
                                                   childChannelInitializer: wrap)
                if chmod(pending, mode) != 0 || (owner.map { chown(pending, 0, $0) } ?? 0) != 0
                    || (pending != path && rename(pending, path) != 0) {
                    let code = errno
                    try? await channel.channel.close()
                    unlink(pending)
                    throw DockerAPIServerError.socket(path: path, reason: "chmod/chown/rename: \(String(cString: strerror(code)))")
                }
            case .tcp(let host, let port, _):
                channel = try await bootstrap.serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: host, port: port, childChannelInitializer: wrap)
            }
            return DockerAPIServer(router: router, socketPath: socketPath, spoolDirectory: spoolDirectory, group: group,
                                   serverChannel: channel)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// The TCP port actually bound (for port 0), nil for a unix socket.
    public var boundPort: Int? { serverChannel.channel.localAddress?.port }

    /// Where it listens: the socket's path, or tcp://HOST:PORT.
    public var description: String {
        if !socketPath.isEmpty { return socketPath }
        guard let address = serverChannel.channel.localAddress, let host = address.ipAddress, let port = address.port else { return "tcp" }
        return host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
    }

    private init(router: Router, socketPath: String, spoolDirectory: String, group: MultiThreadedEventLoopGroup,
                 serverChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>) {
        self.router = router
        self.socketPath = socketPath
        self.spoolDirectory = spoolDirectory
        self.group = group
        self.serverChannel = serverChannel
    }

    /// Accepts connections until `close` (or the task is cancelled).
    public func serve() async throws {
        await withDiscardingTaskGroup { tasks in
            try? await serverChannel.executeThenClose { inbound in
                for try await connection in inbound {
                    tasks.addTask { [self] in
                        await serve(connection)
                    }
                }
            }
            tasks.cancelAll()
        }
        if !socketPath.isEmpty { unlink(socketPath) }
        try? await group.shutdownGracefully()
    }

    /// Stops accepting; connections being served are cut.
    public func close() {
        serverChannel.channel.close(promise: nil)
    }

    func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let channel = connection.channel
        try? await connection.executeThenClose { inbound, _ in
            let reader = ConnectionReader(inbound)
            while true {
                let head: HTTPRequestHead
                do {
                    guard let next = try await reader.readHead() else { return }
                    head = next
                } catch {
                    let parseError = error as? HTTPParseError ?? .malformed("\(error)")
                    _ = try await write(APIResponse.error(DockerAPIError(parseError.status, parseError.description)),
                                    version: .http1_1, method: .GET, keepAlive: false, to: channel)
                    return
                }
                if head.headers["Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                    try await channel.writeAndFlush(ByteBuffer(bytes: Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))).get()
                }
                var response: APIResponse
                var bodyFile: String?
                do {
                    let framing = try head.bodyFraming()
                    let path = (head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri)
                    var request = try APIRequest(method: head.method, uri: head.uri, headers: head.headers, body: [])
                    switch router.body(for: head.method == .HEAD ? .GET : head.method, path: request.path.isEmpty ? path : request.path) {
                    case .memory:
                        var body: [UInt8] = []
                        try await reader.readBody(framing) { piece throws(HTTPParseError) in
                            guard body.count + piece.count <= DockerAPIServer.maximumBodySize else {
                                throw .bodyTooLarge(DockerAPIServer.maximumBodySize)
                            }
                            body += piece
                        }
                        request.body = body
                    case .file:
                        let file = try BodySpool(directory: spoolDirectory)
                        bodyFile = file.path
                        try await reader.readBody(framing) { piece in try file.append(piece) }
                        file.finish()
                        request.bodyFile = file.path
                    }
                    response = await router.respond(request)
                } catch let error as HTTPParseError {
                    if let bodyFile { unlink(bodyFile) }
                    _ = try await write(APIResponse.error(DockerAPIError(error.status, error.description)),
                                    version: head.version, method: head.method, keepAlive: false, to: channel)
                    return
                } catch {
                    response = .error(DockerAPIError.from(error))
                }
                defer { if let bodyFile { unlink(bodyFile) } }
                if case .hijack(let takeOver) = response.body {
                    try await hijack(response, head: head, channel: channel, reader: reader, takeOver: takeOver)
                    return
                }
                let keepGoing = try await write(response, version: head.version, method: head.method,
                                                keepAlive: head.keepAlive, to: channel,
                                                input: HijackedStream(channel: channel, reader: reader))
                if !keepGoing { return }
            }
        }
    }

    /// Answers with the upgrade (or a plain 200 for clients that did not ask for one) and
    /// hands the connection to the handler.
    func hijack(_ response: APIResponse, head: HTTPRequestHead, channel: Channel, reader: ConnectionReader,
                takeOver: @Sendable (HijackedStream) async throws -> Void) async throws {
        var headers = response.headers
        let status: HTTPResponseStatus
        if head.asksForUpgrade {
            status = .custom(code: 101, reasonPhrase: "UPGRADED")
            headers.replaceOrAdd(name: "Connection", value: "Upgrade")
            headers.replaceOrAdd(name: "Upgrade", value: "tcp")
        } else {
            status = .ok
        }
        let bytes = ResponseHead.serialize(status: status, headers: DockerAPIServer.common(headers), version: head.version)
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        await PeerReadWait.untilRead(channel)
        let stream = HijackedStream(channel: channel, reader: reader)
        try? await takeOver(stream)
        stream.close()
    }

    static func common(_ headers: HTTPHeaders) -> HTTPHeaders {
        var headers = headers
        headers.replaceOrAdd(name: "Server", value: "Caisson/\(DockerAPIInfo.engineVersion) (linux)")
        headers.replaceOrAdd(name: "Api-Version", value: APIVersion.current.description)
        headers.replaceOrAdd(name: "Ostype", value: "linux")
        return headers
    }

    /// Writes a response; false when the connection must close after it. Every write goes
    /// to the channel and is awaited until the socket took it: the outbound writer of
    /// `NIOAsyncChannel` returns before that, and closing the connection at the end dropped
    /// what a slow reader had not taken yet (a `docker save | docker load` cut short).
    func write(_ response: APIResponse, version: HTTPVersion, method: HTTPMethod, keepAlive: Bool,
               to channel: Channel, input: HijackedStream? = nil) async throws -> Bool {
        var headers = DockerAPIServer.common(response.headers)
        switch response.body {
        case .bytes(let bytes):
            headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
            if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
            var out = ResponseHead.serialize(status: response.status, headers: headers, version: version)
            if method != .HEAD { out += bytes }
            try await channel.writeAndFlush(ByteBuffer(bytes: out)).get()
            return keepAlive
        case .stream(let produce):
            let chunked = version == .http1_1
            if chunked { headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked") }
            headers.replaceOrAdd(name: "Connection", value: "close")
            try await channel.writeAndFlush(ByteBuffer(bytes: ResponseHead.serialize(status: response.status, headers: headers, version: version))).get()
            try await produce(ResponseStream(write: { bytes in
                try await channel.writeAndFlush(ByteBuffer(bytes: chunked ? ResponseHead.chunk(bytes) : bytes)).get()
            }, clientClosed: {
                // The connection closes after a stream: what the client still sends is dropped.
                guard let input else { _ = try? await Task.sleep(nanoseconds: UInt64.max); return }
                while (try? await input.read()) != nil {}
            }))
            if chunked { try await channel.writeAndFlush(ByteBuffer(bytes: Array("0\r\n\r\n".utf8))).get() }
            return false
        case .hijack:
            return false
        }
    }
}

/// Why the API socket could not be served.
public enum DockerAPIServerError: Error, CustomStringConvertible {
    case socket(path: String, reason: String)
    case address(String, String)
    case tls(String)

    public var description: String {
        switch self {
        case .socket(let path, let reason): return "docker API socket \(path): \(reason)"
        case .address(let text, let reason): return "docker API address \(text): \(reason)"
        case .tls(let reason): return "docker API TLS: \(reason)"
        }
    }
}
