#if canImport(Glibc)
import Glibc
#endif
import Builder
import CaissonSys
import Engine

/// The network of a build's RUN steps by default: one network namespace for the build,
/// attached (CNI) to the engine's default `bridge` network as a container's would be, so a
/// step reaches what a `caisson run` container reaches and nothing of the host's loopback.
/// Made when the build starts, detached and removed when it ends (also when it fails or
/// is interrupted); what a build killed by SIGKILL left is removed by the next build.
/// `caisson build` and the Docker API's `POST /build` share it.
public struct BuildNetwork: Sendable {
    let engine: ContainerEngine
    let network: NetworkRecord
    let id: String
    /// The namespace's path (what `BuildOptions.makeNetwork` returns).
    public let path: String
    let cacheDirectory: String

    static func area(_ engine: ContainerEngine) -> String { engine.options.runRoot + "/build-networks" }

    /// Creates the namespace and attaches it to the default network.
    public static func create(_ engine: ContainerEngine) throws -> BuildNetwork {
        sweep(engine)
        let network = try engine.network(named: ContainerEngine.defaultNetwork)
        let id = BuildLeftovers.name("build")
        let cacheDirectory = area(engine) + "/" + id
        try Files.makeDirectories(cacheDirectory, mode: 0o700)
        let made = BuildNetwork(engine: engine, network: network, id: id, path: engine.options.runRoot + "/netns/" + id,
                                cacheDirectory: cacheDirectory)
        do {
            try engine.cni.createNamespace(at: made.path)
            _ = try engine.cni.add(network, containerID: id, netns: made.path, ports: [], cacheDirectory: cacheDirectory)
        } catch {
            made.remove()
            throw error
        }
        return made
    }

    /// Detaches and removes the namespace.
    public func remove() {
        engine.cni.delete(network, containerID: id, netns: path, ports: [], cacheDirectory: cacheDirectory)
        engine.cni.removeNamespace(at: path)
        try? Files.removeTree(cacheDirectory)
    }

    /// Removes the namespaces of builds whose process is gone.
    public static func sweep(_ engine: ContainerEngine) {
        for name in (try? Files.listDirectory(area(engine))) ?? [] {
            let parts = name.split(separator: "-")
            guard parts.count >= 3, let pid = pid_t(parts[parts.count - 2]), pid > 0,
                  kill(pid, 0) != 0 && errno == ESRCH, let network = try? engine.network(named: ContainerEngine.defaultNetwork) else {
                continue
            }
            BuildNetwork(engine: engine, network: network, id: name, path: engine.options.runRoot + "/netns/" + name,
                         cacheDirectory: area(engine) + "/" + name).remove()
        }
    }
}
