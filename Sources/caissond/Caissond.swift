import ArgumentParser
import CaissonSys
import DockerAPI
import CRIServer
import GRPCCore
import GRPCNIOTransportHTTP2

#if canImport(Glibc)
import Glibc
#endif

/// `caissond`: serves the Kubernetes CRI (runtime.v1 RuntimeService and ImageService)
/// on a unix socket, with the streaming server for exec, attach and port-forward, and
/// the Docker Engine API on another; either may be turned off ("" for its socket).
@main
struct Caissond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caissond",
        abstract: "Caisson's daemon: serves the Kubernetes CRI (runtime.v1) and the Docker Engine API on unix sockets.",
        version: RuntimeServiceHandler.version)

    @Option(name: .customLong("cri-socket"), help: "The CRI socket (\"\" turns the CRI off).")
    var criSocket: String?

    @Option(name: .customLong("docker-socket"), help: "The Docker Engine API socket, mode 0660 (default RUNROOT/docker.sock, /run/caisson/docker.sock; \"\" turns it off).")
    var dockerSocketOption: String?

    @Option(name: .customLong("docker-socket-group"), help: "The group that owns the Docker Engine API socket (its members may use it).")
    var dockerSocketGroup: String?

    @Option(name: .customLong("docker-tcp"), help: "Also serve the Docker Engine API on HOST:PORT: a loopback address, or any with --tlsverify.")
    var dockerTCP: String?

    @Option(name: .customLong("tlscert"), help: "TLS on --docker-tcp: the server's certificate chain (PEM).")
    var tlsCertificate: String?

    @Option(name: .customLong("tlskey"), help: "TLS on --docker-tcp: the server's private key (PEM).")
    var tlsKey: String?

    @Option(name: .customLong("tlscacert"), help: "With --tlsverify: the CA that signs the clients' certificates (PEM).")
    var tlsCACertificate: String?

    @Flag(name: .customLong("tlsverify"), help: "Serve --docker-tcp only to clients with a certificate --tlscacert signed.")
    var tlsVerify = false

    @Option(help: "All state: images, pods, containers.")
    var root: String?

    @Option(help: "Runtime state (a tmpfs).")
    var runroot: String?

    @Option(name: .customLong("registries-conf"), help: "containers-registries.conf(5) file (mirrors, insecure registries).")
    var registriesConf: String?

    @Option(name: .customLong("authfile"), help: "Registry credentials (auth.json).")
    var authFile: String?

    @Option(name: .customLong("cni-conf-dir"), help: "CNI network configuration directory.")
    var cniConfigDirectory: String?

    @Option(name: .customLong("cni-bin-dir"), help: "CNI plugin directory (repeatable).")
    var cniBinDirectories: [String] = []

    @Option(name: .customLong("stream-address"), help: "Address of the streaming server (exec, attach, port-forward).")
    var streamAddress: String?

    @Option(name: .customLong("stream-port"), help: "Port of the streaming server (0: any free port).")
    var streamPort: Int?

    @Option(name: .customLong("runtime-handler"), help: "A runtime handler, NAME=PATH of its OCI runtime (repeatable).")
    var runtimeHandlers: [String] = []

    @Option(name: .customLong("cgroup-parent"), help: "The cgroup parent of pods that name none (default /caisson-cri).")
    var cgroupParent: String?

    @Option(help: "Configuration file (TOML); flags override it.")
    var config: String = "/etc/caisson/caissond.toml"

    func run() async throws {
        let file = try DaemonConfigFile.load(config, required: config != "/etc/caisson/caissond.toml")
        var handlers = file.runtimeHandlers
        for entry in runtimeHandlers {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw ValidationError("--runtime-handler takes NAME=PATH, got \"\(entry)\"")
            }
            handlers[parts[0]] = parts[1]
        }
        let own = Caissond.executablePath()
        let options = CRIOptions(
            root: root ?? file.root ?? "/var/lib/caisson",
            runRoot: runroot ?? file.runRoot ?? "/run/caisson",
            registriesConf: registriesConf ?? file.registriesConf,
            authFile: authFile ?? file.authFile,
            cniConfigDirectory: cniConfigDirectory ?? file.cniConfigDirectory ?? "/etc/cni/net.d",
            cniPluginDirectories: cniBinDirectories.isEmpty ? (file.cniPluginDirectories ?? ["/usr/lib/cni", "/opt/cni/bin"]) : cniBinDirectories,
            runtimeHandlers: handlers,
            monitorPath: Paths.parent(own) + "/caisson-monitor",
            streamAddress: streamAddress ?? file.streamAddress ?? "127.0.0.1",
            streamPort: streamPort ?? file.streamPort ?? 0,
            cgroupParent: try Caissond.cgroupParent(cgroupParent ?? file.cgroupParent ?? "/caisson-cri"))
        let socket = criSocket ?? file.criSocket ?? options.runRoot + "/caisson.sock"
        guard access(options.monitorPath, X_OK) == 0 else {
            throw ValidationError("caisson-monitor is not installed beside caissond (\(options.monitorPath))")
        }
        // Beside the run root's other sockets, so daemons with their own run roots never share one.
        let dockerSocket = dockerSocketOption ?? options.runRoot + "/docker.sock"
        var dockerAddresses: [DockerAPIServer.Address] = []
        if !dockerSocket.isEmpty {
            dockerAddresses.append(.unix(path: dockerSocket, mode: 0o660, group: try dockerSocketGroup.map(DockerEndpoint.group)))
        } else if dockerSocketGroup != nil {
            throw ValidationError("--docker-socket-group needs the Docker Engine API socket (--docker-socket is \"\")")
        }
        let tls: DockerAPITLS?
        do { tls = try DockerAPITLS.from(certificate: tlsCertificate, key: tlsKey, clientCA: tlsCACertificate, verify: tlsVerify) } catch {
            throw ValidationError("\(error)")
        }
        if let dockerTCP {
            do { dockerAddresses.append(try .tcp(parsing: dockerTCP, tls: tls)) } catch { throw ValidationError("--docker-tcp: \(error)") }
        } else if tls != nil {
            throw ValidationError("--tlscert, --tlskey, --tlscacert and --tlsverify are for --docker-tcp, which is not given")
        }
        guard !socket.isEmpty || !dockerAddresses.isEmpty else {
            throw ValidationError("--cri-socket \"\" and --docker-socket \"\" leave nothing to serve")
        }
        signal(SIGPIPE, SIG_IGN)
        let docker = dockerAddresses.isEmpty ? nil : try await DockerEndpoint.start(
            addresses: dockerAddresses, root: options.root, runRoot: options.runRoot, registriesConf: options.registriesConf,
            authFile: options.authFile, monitorPath: options.monitorPath)
        try await withThrowingDiscardingTaskGroup { group in
            if let docker {
                group.addTask { await docker.serve() }
                for server in docker.servers {
                    writeError("caissond: serving the Docker Engine API on \(server.description)\n")
                }
            }
            let cri = socket.isEmpty ? nil : try await Caissond.startCRI(options, socket: socket, group: &group)
            group.addTask {
                await waitForTermination()
                docker?.close()
                cri?()
            }
        }
        if !socket.isEmpty { unlink(socket) }
    }

    /// Starts the CRI's gRPC and streaming servers in `group`; returns what stops them.
    static func startCRI(_ options: CRIOptions, socket: String,
                         group: inout ThrowingDiscardingTaskGroup<any Error>) async throws -> @Sendable () -> Void {
        let manager = try PodManager(options)
        let requests = StreamingRequests()
        let streaming = try await StreamingServer.start(manager: manager, requests: requests,
                                                        host: options.streamAddress, port: options.streamPort)
        try Files.makeDirectories(Paths.parent(socket), mode: 0o711)
        unlink(socket)
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .unixDomainSocket(path: socket), transportSecurity: .plaintext,
                                      config: .defaults { $0.rpc.maxRequestPayloadSize = 16 * 1024 * 1024 }),
            services: [RuntimeServiceHandler(manager: manager, streaming: requests), ImageServiceHandler(manager: manager)])
        group.addTask { try await server.serve() }
        if let address = try await server.listeningAddress {
            writeError("caissond: serving the CRI on \(address); streaming on \(streaming.baseURL)\n")
        }
        return {
            server.beginGracefulShutdown()
            streaming.stop()
        }
    }
}

extension Caissond {
    /// A cgroup parent as an absolute path without a trailing slash, never the root.
    static func cgroupParent(_ value: String) throws -> String {
        var path = value.hasPrefix("/") ? value : "/" + value
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard path != "/", !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw ValidationError("--cgroup-parent must name a cgroup below the root, got \"\(value)\"")
        }
        return path
    }

    /// This executable's path (/proc/self/exe), to find caisson-monitor beside it.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, 4095)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

func writeError(_ text: String) {
    _ = try? Files.writeAll(fd: 2, bytes: Array(text.utf8))
}

/// Returns when SIGTERM or SIGINT arrives.
func waitForTermination() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        TerminationSignals.wait { continuation.resume() }
    }
}
