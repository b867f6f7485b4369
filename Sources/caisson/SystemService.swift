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
    @Option(name: .customLong("tcp"), help: "Also serve on HOST:PORT, a loopback address (there is no TLS).")
    var tcp: String?

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
        if let tcp {
            do { addresses.append(try .tcp(parsing: tcp)) } catch { throw CLIError.usage("--tcp: \(error)") }
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
