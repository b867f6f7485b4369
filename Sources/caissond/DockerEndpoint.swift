#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import DockerAPI
import Engine
import ArgumentParser
import Images

/// caissond's Docker Engine API: an engine over the same --root and --runroot as
/// `caisson` (the `caisson` binary beside caissond runs `--rm` clean-ups), served on its
/// socket and, if asked, a loopback TCP address.
enum DockerEndpoint {
    static func start(addresses: [DockerAPIServer.Address], root: String, runRoot: String, registriesConf: String?,
                      authFile: String?, monitorPath: String) async throws -> DockerAPIService {
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
        return try await DockerAPIService.start(engine: engine, addresses: addresses)
    }

    /// A group name or number for the socket's group.
    static func group(_ text: String) throws -> gid_t {
        if let number = gid_t(text) { return number }
        guard let entry = getgrnam(text) else { throw ValidationError("--docker-socket-group: no group \"\(text)\"") }
        return entry.pointee.gr_gid
    }
}
