#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import Engine
import NIOHTTP1

/// `/_ping`, `/version` and `/info`: what the docker CLI asks before anything else
/// (`/_ping`'s Api-Version header is what it negotiates its version down to).
extension DockerAPI {
    func addSystemRoutes(_ router: inout Router) {
        router.add(.GET, "/_ping") { _ in DockerAPI.ping() }
        router.add(.GET, "/version") { _ in .json(DockerAPI.version()) }
        router.add(.GET, "/info") { [self] _ in .json(try await blocking { try self.info() }) }
    }

    static func ping() -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Docker-Experimental", value: "false")
        // The classic builder's API (`POST /build`, version 1) is what is served, not BuildKit's.
        headers.add(name: "Builder-Version", value: "1")
        headers.add(name: "Cache-Control", value: "no-cache, no-store, must-revalidate")
        headers.add(name: "Pragma", value: "no-cache")
        return APIResponse(status: .ok, headers: headers, body: .bytes(Array("OK".utf8)))
    }

    static func version() -> JSONObject {
        let host = DockerAPIInfo.uname()
        var details = JSONObject()
        details.set("ApiVersion", .string(APIVersion.current.description))
        details.set("MinAPIVersion", .string(APIVersion.minimum.description))
        details.set("Arch", .string(DockerAPIInfo.architecture))
        details.set("Os", .string("linux"))
        details.set("KernelVersion", .string(host.kernel))
        details.set("GoVersion", .string(DockerAPIInfo.swiftVersion))
        details.set("GitCommit", .string(""))
        details.set("Experimental", .string("false"))
        var engine = JSONObject()
        engine.set("Name", .string("Engine"))
        engine.set("Version", .string(DockerAPIInfo.engineVersion))
        engine.set("Details", .object(details))
        var platform = JSONObject()
        platform.set("Name", .string("Caisson"))
        var object = JSONObject()
        object.set("Platform", .object(platform))
        object.set("Components", .array([.object(engine)]))
        object.set("Version", .string(DockerAPIInfo.engineVersion))
        object.set("ApiVersion", .string(APIVersion.current.description))
        object.set("MinAPIVersion", .string(APIVersion.minimum.description))
        object.set("GitCommit", .string(""))
        object.set("GoVersion", .string(DockerAPIInfo.swiftVersion))
        object.set("Os", .string("linux"))
        object.set("Arch", .string(DockerAPIInfo.architecture))
        object.set("KernelVersion", .string(host.kernel))
        object.set("BuildTime", .string(""))
        return object
    }

    /// A stable id for this engine, kept in its root.
    func engineID() -> String {
        let path = engine.options.root + "/engine-id"
        if let id = try? Files.readTrimmed(path), !id.isEmpty { return id }
        let id = String(ContainerEngine.randomID().prefix(32))
        try? Files.write(path, id + "\n")
        return id
    }

    func info() throws -> JSONObject {
        let containers = try engine.list()
        let images = try engine.images.list()
        let host = DockerAPIInfo.uname()
        var object = JSONObject()
        object.set("ID", .string(engineID()))
        object.set("Containers", .int(containers.count))
        object.set("ContainersRunning", .int(containers.filter { $0.1.status == .running || $0.1.status == .restarting }.count))
        object.set("ContainersPaused", .int(containers.filter { $0.1.status == .paused }.count))
        object.set("ContainersStopped", .int(containers.filter { !$0.1.isRunning }.count))
        object.set("Images", .int(images.count))
        object.set("Driver", .string(engine.images.snapshots.driver == .overlay ? "overlay2" : "vfs"))
        object.set("DriverStatus", .array([]))
        var plugins = JSONObject()
        plugins.set("Volume", .strings(["local"]))
        plugins.set("Network", .strings(["bridge", "host", "none"]))
        plugins.set("Log", .strings(["json-file"]))
        object.set("Plugins", .object(plugins))
        object.set("MemoryLimit", .bool(true))
        object.set("SwapLimit", .bool(false))
        let memory = "/sys/fs/cgroup/memory/"
        object.set("KernelMemory", .bool(Files.exists(memory + "memory.kmem.limit_in_bytes")))
        object.set("KernelMemoryTCP", .bool(Files.exists(memory + "memory.kmem.tcp.limit_in_bytes")))
        object.set("CpuCfsPeriod", .bool(true))
        object.set("CpuCfsQuota", .bool(true))
        object.set("CPUShares", .bool(true))
        object.set("CPUSet", .bool(true))
        object.set("PidsLimit", .bool(true))
        object.set("IPv4Forwarding", .bool(((try? Files.readTrimmed("/proc/sys/net/ipv4/ip_forward")) ?? "0") == "1"))
        object.set("BridgeNfIptables", .bool(((try? Files.readTrimmed("/proc/sys/net/bridge/bridge-nf-call-iptables")) ?? "0") == "1"))
        object.set("BridgeNfIp6tables", .bool(((try? Files.readTrimmed("/proc/sys/net/bridge/bridge-nf-call-ip6tables")) ?? "0") == "1"))
        object.set("Debug", .bool(false))
        object.set("NFd", .int(((try? Files.listDirectory("/proc/self/fd")) ?? []).count))
        object.set("OomKillDisable", .bool(Files.exists(memory + "memory.oom_control")))
        object.set("NGoroutines", .int(0))
        object.set("SystemTime", .string(Clock.rfc3339Now()))
        object.set("LoggingDriver", .string("json-file"))
        object.set("CgroupDriver", .string("cgroupfs"))
        object.set("CgroupVersion", .string(DockerAPIInfo.cgroupVersion))
        object.set("NEventsListener", .int(0))
        object.set("KernelVersion", .string(host.kernel))
        object.set("OperatingSystem", .string(DockerAPIInfo.operatingSystem))
        object.set("OSVersion", .string(""))
        object.set("OSType", .string("linux"))
        object.set("Architecture", .string(host.machine))
        object.set("IndexServerAddress", .string("https://index.docker.io/v1/"))
        object.set("RegistryConfig", .object(DockerAPIInfo.registryConfig))
        object.set("NCPU", .int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        object.set("MemTotal", .int(DockerAPIInfo.memoryTotal))
        object.set("GenericResources", .null)
        object.set("DockerRootDir", .string(engine.options.root))
        // The proxies this daemon's environment names, which its pulls go through.
        object.set("HttpProxy", .string(DockerAPIInfo.environment("HTTP_PROXY", "http_proxy")))
        object.set("HttpsProxy", .string(DockerAPIInfo.environment("HTTPS_PROXY", "https_proxy")))
        object.set("NoProxy", .string(DockerAPIInfo.environment("NO_PROXY", "no_proxy")))
        object.set("Name", .string(host.node))
        object.set("Labels", .array([]))
        object.set("ExperimentalBuild", .bool(false))
        object.set("ServerVersion", .string(DockerAPIInfo.engineVersion))
        var runtimes = JSONObject()
        for name in ["caisson-runtime", "runc", "crun"] {
            guard let path = try? engine.resolveRuntime(name) else { continue }
            var runtime = JSONObject()
            runtime.set("path", .string(path))
            runtimes.set(name, .object(runtime))
        }
        object.set("Runtimes", .object(runtimes))
        object.set("DefaultRuntime", .string("caisson-runtime"))
        var swarm = JSONObject()
        swarm.set("NodeID", .string(""))
        swarm.set("NodeAddr", .string(""))
        swarm.set("LocalNodeState", .string("inactive"))
        swarm.set("ControlAvailable", .bool(false))
        swarm.set("Error", .string(""))
        object.set("Swarm", .object(swarm))
        object.set("LiveRestoreEnabled", .bool(true))
        object.set("Isolation", .string(""))
        object.set("InitBinary", .string(""))
        // No containerd; the default runtime is this release's caisson-runtime.
        object.set("ContainerdCommit", DockerAPIInfo.commit(""))
        object.set("RuncCommit", DockerAPIInfo.commit(DockerAPIInfo.engineVersion))
        object.set("InitCommit", DockerAPIInfo.commit(""))
        object.set("SecurityOptions", .strings(["name=seccomp,profile=builtin"]))
        object.set("Warnings", .array([]))
        return object
    }
}
