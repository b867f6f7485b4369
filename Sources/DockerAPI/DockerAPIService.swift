import CaissonSys
import Engine

/// The Docker Engine API served on one or more addresses over one engine: what
/// `caissond` runs beside the CRI and what `caisson system service` runs in the
/// foreground for a user who wants no daemon.
public final class DockerAPIService: Sendable {
    public let api: DockerAPI
    public let servers: [DockerAPIServer]

    private init(api: DockerAPI, servers: [DockerAPIServer]) {
        self.api = api
        self.servers = servers
    }

    /// Binds every address (closing what was bound if one fails).
    public static func start(engine: ContainerEngine, addresses: [DockerAPIServer.Address]) async throws -> DockerAPIService {
        let api = DockerAPI(engine: engine)
        let router = api.router()
        var servers: [DockerAPIServer] = []
        do {
            for address in addresses {
                if case .unix(let path, _, _) = address { try Files.makeDirectories(Paths.parent(path), mode: 0o711) }
                servers.append(try await DockerAPIServer.bind(address, spoolDirectory: engine.options.runRoot + "/docker-api",
                                                              router: router))
            }
        } catch {
            for server in servers { server.close() }
            for server in servers { try? await server.serve() }
            await api.shutdown()
            throw error
        }
        return DockerAPIService(api: api, servers: servers)
    }

    /// Serves until `close`.
    public func serve() async {
        await withDiscardingTaskGroup { group in
            for server in servers { group.addTask { try? await server.serve() } }
        }
        await api.shutdown()
    }

    /// Stops accepting; clients waiting to attach to a container not yet started are let
    /// go, so that every connection's handler ends and `serve` returns.
    public func close() {
        api.attaches.cancelAll()
        for server in servers { server.close() }
    }
}

extension DockerAPIServer.Address {
    /// `--docker-tcp`'s value: `HOST:PORT`, `[V6]:PORT` or `tcp://...`. Whoever reaches the
    /// API is root on this machine, so an address that is not loopback is served only when
    /// clients are verified (`--tlsverify`), as dockerd is heading to require.
    public static func tcp(parsing text: String, tls: DockerAPITLS? = nil) throws(DockerAPIServerError) -> DockerAPIServer.Address {
        var rest = Substring(text)
        if rest.hasPrefix("tcp://") { rest = rest.dropFirst(6) }
        let host: Substring
        let portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                throw .address(text, "expected [ADDRESS]:PORT")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            portText = rest[rest.index(close, offsetBy: 2)...]
        } else {
            guard let colon = rest.lastIndex(of: ":") else { throw .address(text, "expected HOST:PORT") }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else { throw .address(text, "bad port \"\(portText)\"") }
        let loopback = host == "localhost" || host == "::1" || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
        guard loopback || tls?.verifiesClients == true else {
            throw .address(text, "only loopback addresses are served without --tlsverify: whoever reaches the API is root on this machine (give --tlsverify with --tlscacert, --tlscert and --tlskey, use the unix socket, or ssh to it)")
        }
        return .tcp(host: host == "localhost" ? "127.0.0.1" : String(host), port: port, tls: tls)
    }
}
