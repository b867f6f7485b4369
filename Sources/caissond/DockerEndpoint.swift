#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import DockerAPI
import Engine
import Images

/// caissond's Docker Engine API: an engine over the same --root and --runroot as
/// `caisson` (the `caisson` binary beside caissond runs `--rm` clean-ups), served on
/// its own socket.
struct DockerEndpoint {
    let api: DockerAPI
    let server: DockerAPIServer

    static func start(socket: String, root: String, runRoot: String, registriesConf: String?, authFile: String?,
                      monitorPath: String) async throws -> DockerEndpoint {
        let directory = Paths.parent(Caissond.executablePath())
        var search = [directory]
        for entry in (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            search.append(String(entry))
        }
        search += ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        var passthrough = ["--root", root, "--runroot", runRoot]
        if let registriesConf { passthrough += ["--registries-conf", registriesConf] }
        let engine = try ContainerEngine(EngineOptions(
            root: root, runRoot: runRoot,
            images: ImageStoreOptions(root: root, registriesConf: registriesConf, authFile: authFile, driver: nil),
            monitorPath: monitorPath, caissonPath: directory + "/caisson", caissonGlobalArguments: passthrough,
            searchPath: search))
        let api = DockerAPI(engine: engine)
        try Files.makeDirectories(Paths.parent(socket), mode: 0o711)
        do {
            let server = try await DockerAPIServer.bind(socketPath: socket, mode: 0o660, spoolDirectory: runRoot + "/docker-api", router: api.router())
            return DockerEndpoint(api: api, server: server)
        } catch {
            await api.shutdown()
            throw error
        }
    }
}
