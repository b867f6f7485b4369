#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import DockerAPI

/// `caisson system service`: the Docker Engine API served in the foreground, over this
/// command's engine (the same --root and --runroot as the other commands), until
/// Ctrl-C or SIGTERM, for a user who wants the API without running caissond.
struct SystemService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service", abstract: "Serve the Docker Engine API in the foreground (until Ctrl-C).",
        usage: "caisson system service [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .customLong("socket"), help: "The unix socket (default RUNROOT/docker.sock; \"\" for none).")
    var socket: String?
    @Option(name: .customLong("socket-group"), help: "The group that owns the socket.")
    var socketGroup: String?
    @Option(name: .customLong("tcp"), help: "Also serve on HOST:PORT: a loopback address, or any with --tlsverify.")
    var tcp: String?
    @Option(name: .customLong("tlscert"), help: "TLS on --tcp: the server's certificate chain (PEM).")
    var tlsCertificate: String?
    @Option(name: .customLong("tlskey"), help: "TLS on --tcp: the server's private key (PEM).")
    var tlsKey: String?
    @Option(name: .customLong("tlscacert"), help: "With --tlsverify: the CA that signs the clients' certificates (PEM).")
    var tlsCACertificate: String?
    @Flag(name: .customLong("tlsverify"), help: "Serve --tcp only to clients with a certificate --tlscacert signed.")
    var tlsVerify = false

    func run() async throws {
        let engine = try global.engine()
        var addresses: [DockerAPIServer.Address] = []
        let path = socket ?? engine.options.runRoot + "/docker.sock"
        if !path.isEmpty {
            var group: gid_t?
            if let socketGroup {
                if let number = gid_t(socketGroup) { group = number } else if let entry = getgrnam(socketGroup) {
                    group = entry.pointee.gr_gid
                } else {
                    throw CLIError.usage("--socket-group: no group \"\(socketGroup)\"")
                }
            }
            addresses.append(.unix(path: path, mode: 0o660, group: group))
        }
        let tls: DockerAPITLS?
        do { tls = try DockerAPITLS.from(certificate: tlsCertificate, key: tlsKey, clientCA: tlsCACertificate, verify: tlsVerify) } catch {
            throw CLIError.usage("\(error)")
        }
        if let tcp {
            do { addresses.append(try .tcp(parsing: tcp, tls: tls)) } catch { throw CLIError.usage("--tcp: \(error)") }
        } else if tls != nil {
            throw CLIError.usage("--tlscert, --tlskey, --tlscacert and --tlsverify are for --tcp, which is not given")
        }
        guard !addresses.isEmpty else { throw CLIError.usage("--socket \"\" without --tcp leaves nothing to serve") }
        signal(SIGPIPE, SIG_IGN)
        let service: DockerAPIService
        do { service = try await DockerAPIService.start(engine: engine, addresses: addresses) } catch {
            throw CLIError.failed("\(error)")
        }
        SignalPipe.install([SIGINT, SIGTERM]) { _ in service.close() }
        for server in service.servers {
            writeError("caisson: serving the Docker Engine API on \(server.description) (Ctrl-C stops)\n")
        }
        await service.serve()
    }
}
