#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix

/// The Docker Engine API's HTTP/1.1 server on a unix socket, on SwiftNIO's channels
/// directly (not a web framework): attach and exec will take a connection over from
/// HTTP ("hijack" it), which needs the channel itself. Each connection serves requests
/// one after another (keep-alive) until the client closes it.
public final class DockerAPIServer: Sendable {
    /// Bodies above this are refused (a create request is a few kilobytes).
    static let maximumBodySize = 8 * 1024 * 1024

    let router: Router
    let socketPath: String
    let group: MultiThreadedEventLoopGroup
    let serverChannel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>

    /// Binds the socket (replacing a stale one) with mode `mode`; `serve` accepts.
    public static func bind(socketPath: String, mode: mode_t = 0o660, router: Router) async throws -> DockerAPIServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 128)
                .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    }
                }
            guard chmod(socketPath, mode) == 0 else {
                let code = errno
                try? await channel.channel.close()
                throw DockerAPIServerError.socket(path: socketPath, reason: "chmod: \(String(cString: strerror(code)))")
            }
            return DockerAPIServer(router: router, socketPath: socketPath, group: group, serverChannel: channel)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(router: Router, socketPath: String, group: MultiThreadedEventLoopGroup,
                 serverChannel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>) {
        self.router = router
        self.socketPath = socketPath
        self.group = group
        self.serverChannel = serverChannel
    }

    /// Accepts connections until `close` (or the task is cancelled).
    public func serve() async throws {
        try await withDiscardingTaskGroup { tasks in
            try? await serverChannel.executeThenClose { inbound in
                for try await connection in inbound {
                    tasks.addTask { [router] in
                        await DockerAPIServer.serve(connection, router: router)
                    }
                }
            }
            tasks.cancelAll()
        }
        unlink(socketPath)
        try? await group.shutdownGracefully()
    }

    /// Stops accepting; connections being served are cut.
    public func close() {
        serverChannel.channel.close(promise: nil)
    }

    static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, router: Router) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let received):
                    head = received
                    body = []
                    tooLarge = false
                case .body(var buffer):
                    if body.count + buffer.readableBytes > maximumBodySize {
                        tooLarge = true
                    } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                        body += bytes
                    }
                case .end:
                    guard let request = head else { continue }
                    head = nil
                    var response: APIResponse
                    if tooLarge {
                        response = .error(.badParameter("the request body is larger than \(maximumBodySize) bytes"))
                    } else {
                        do {
                            response = await router.respond(try APIRequest(method: request.method, uri: request.uri,
                                                                          headers: request.headers, body: body))
                        } catch {
                            response = .error(DockerAPIError.from(error))
                        }
                    }
                    let keepGoing = try await write(response, for: request, to: outbound)
                    if !keepGoing || !request.isKeepAlive { return }
                }
            }
        }
    }

    /// Writes a response; false when the connection must close after it (a streamed body).
    static func write(_ response: APIResponse, for request: HTTPRequestHead,
                      to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws -> Bool {
        var headers = response.headers
        headers.replaceOrAdd(name: "Server", value: "Caisson/\(DockerAPIInfo.engineVersion) (linux)")
        headers.replaceOrAdd(name: "Api-Version", value: APIVersion.current.description)
        headers.replaceOrAdd(name: "Ostype", value: "linux")
        switch response.body {
        case .bytes(let bytes):
            headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
            if !request.isKeepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers)))
            if !bytes.isEmpty, request.method != .HEAD {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            }
            try await outbound.write(.end(nil))
            return true
        case .stream(let produce):
            headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            headers.replaceOrAdd(name: "Connection", value: "close")
            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers)))
            try await produce(ResponseStream { bytes in
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            })
            try await outbound.write(.end(nil))
            return false
        }
    }
}

/// Why the API socket could not be served.
public enum DockerAPIServerError: Error, CustomStringConvertible {
    case socket(path: String, reason: String)

    public var description: String {
        switch self {
        case .socket(let path, let reason): return "docker API socket \(path): \(reason)"
        }
    }
}
