@_exported import CaissonTestSupport
import CRIProto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// A private caissond: its own root, run root, CRI socket and CNI network (a bridge and
/// subnet of its own), a docker-registry holding a busybox image pushed by `caisson`,
/// reached through a registries.conf mirror of `registry.example`. `with` runs a test
/// body with CRI clients and then removes every pod, stops the daemon and checks that
/// nothing of it is left on the machine (mounts, network namespaces, veths, iptables rules, cgroups).
final class CRIFixture: @unchecked Sendable {
    typealias Transport = HTTP2ClientTransport.Posix
    let directory: String
    let root: String
    let runRoot: String
    let socket: String
    let bridge: String
    let subnet: String
    /// This daemon's own cgroup parent: other caissonds on the host use theirs.
    let cgroupParent: String
    let registry: TestRegistry
    private var daemon: BackgroundProcess?

    /// The image through the mirror (the registry has it as e2e/busybox:1).
    static let image = "registry.example/e2e/busybox:1"

    static let binDirectory = BuiltBinaries.directory

    private init(basicAuth: Bool) throws {
        directory = try Scratch.directory("cri")
        root = directory + "/root"
        runRoot = "/run/caisson-test-" + Scratch.uniqueID("cri").suffix(8)
        socket = directory + "/caissond.sock"
        let tag = String(UInt32.random(in: 0..<0xffff), radix: 16)
        bridge = "ccri" + tag
        subnet = "10.\(UInt8.random(in: 100...199)).\(UInt8.random(in: 1...254)).0/24"
        cgroupParent = "/caisson-test-" + Scratch.uniqueID("cri").suffix(8)
        registry = try TestRegistry(basicAuth: basicAuth)
        try makeImage(basicAuth: basicAuth)
        try writeConfiguration()
    }

    /// Imports a busybox root filesystem with `caisson` and pushes it to the registry.
    private func makeImage(basicAuth: Bool) throws {
        let rootfs = directory + "/busybox"
        try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
        let bundle = try Shell.run("/bin/bash", [CRIFixture.source("scripts/make-busybox-bundle"), directory + "/bundle"])
        guard bundle.status == 0 else { throw FixtureError(what: "make-busybox-bundle", output: bundle.stderr) }
        let tarball = directory + "/busybox.tar"
        let tar = try Shell.run("/bin/tar", ["-C", directory + "/bundle/rootfs", "-cf", tarball, "."])
        guard tar.status == 0 else { throw FixtureError(what: "tar", output: tar.stderr) }
        let store = ["--root", directory + "/build", "--runroot", directory + "/build-run", "--authfile", directory + "/build-auth.json"]
        let name = "\(registry.host)/e2e/busybox:1"
        if basicAuth {
            let login = try Shell.run(CRIFixture.binDirectory + "/caisson", ["login"] + store
                                      + ["-u", TestRegistry.user, "-p", TestRegistry.password, registry.host])
            guard login.status == 0 else { throw FixtureError(what: "caisson login", output: login.stderr) }
        }
        let imported = try Shell.run(CRIFixture.binDirectory + "/caisson", ["import"] + store + ["-c", "CMD [\"sh\"]", tarball, name])
        guard imported.status == 0 else { throw FixtureError(what: "caisson import", output: imported.stderr) }
        let pushed = try Shell.run(CRIFixture.binDirectory + "/caisson", ["push"] + store + ["-q", name])
        guard pushed.status == 0 else { throw FixtureError(what: "caisson push", output: pushed.stderr) }
    }

    private func writeConfiguration() throws {
        let conf = """
        [[registry]]
        prefix = "registry.example"
        location = "registry.example"
        [[registry.mirror]]
        location = "\(registry.host)"
        insecure = true
        """
        try conf.write(toFile: directory + "/registries.conf", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory + "/net.d", withIntermediateDirectories: true)
        let network = """
        {"cniVersion": "1.0.0", "name": "\(bridge)", "plugins": [
          {"type": "bridge", "bridge": "\(bridge)", "isGateway": true, "ipMasq": true,
           "ipam": {"type": "host-local", "dataDir": "\(directory)/ipam", "ranges": [[{"subnet": "\(subnet)"}]],
                    "routes": [{"dst": "0.0.0.0/0"}]}},
          {"type": "portmap", "capabilities": {"portMappings": true}}]}
        """
        try network.write(toFile: directory + "/net.d/10-test.conflist", atomically: true, encoding: .utf8)
    }

    /// Starts (or restarts) the daemon and waits for its socket.
    func startDaemon() throws {
        try? FileManager.default.removeItem(atPath: socket)
        daemon = try BackgroundProcess(CRIFixture.binDirectory + "/caissond", [
            "--cri-socket", socket, "--root", root, "--runroot", runRoot, "--registries-conf", directory + "/registries.conf",
            "--cni-conf-dir", directory + "/net.d", "--cgroup-parent", cgroupParent,
        ], log: directory + "/caissond.log")
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline else { throw FixtureError(what: "caissond", output: daemonLog) }
            usleep(20_000)
        }
    }

    /// The running daemon's process id.
    var daemonPID: pid_t? { daemon?.pid }

    func stopDaemon() {
        daemon?.stop()
        daemon = nil
    }

    var daemonLog: String { (try? String(contentsOfFile: directory + "/caissond.log", encoding: .utf8)) ?? "" }

    /// Runs `body` against a fresh daemon, then cleans up and checks for leftovers.
    static func with(basicAuth: Bool = false,
                     _ body: (CRIFixture, Runtime_V1_RuntimeService.Client<Transport>, Runtime_V1_ImageService.Client<Transport>) async throws -> Void) async throws {
        let fixture = try CRIFixture(basicAuth: basicAuth)
        try fixture.startDaemon()
        var failure: (any Error)?
        do {
            try await fixture.withClients { runtime, images in try await body(fixture, runtime, images) }
        } catch {
            failure = error
        }
        let leftovers = try await fixture.tearDown()
        if let failure { throw failure }
        if !leftovers.isEmpty { throw FixtureError(what: "teardown", output: leftovers.joined(separator: "\n")) }
    }

    func withClients(_ body: (Runtime_V1_RuntimeService.Client<Transport>, Runtime_V1_ImageService.Client<Transport>) async throws -> Void) async throws {
        let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)
        try await withGRPCClient(transport: transport) { client in
            try await body(Runtime_V1_RuntimeService.Client(wrapping: client), Runtime_V1_ImageService.Client(wrapping: client))
        }
    }

    /// Removes every pod through the CRI, stops the daemon and the registry; returns what is left behind.
    private func tearDown() async throws -> [String] {
        if daemon == nil { try? startDaemon() }
        try? await withClients { runtime, _ in
            let pods = try await runtime.listPodSandbox(Runtime_V1_ListPodSandboxRequest()).items
            for pod in pods {
                var request = Runtime_V1_RemovePodSandboxRequest()
                request.podSandboxID = pod.id
                _ = try await runtime.removePodSandbox(request)
            }
        }
        stopDaemon()
        registry.stop()
        var leftovers: [String] = []
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") where line.contains(directory) || line.contains(runRoot) {
            leftovers.append("mount: \(line)")
        }
        let netns = (try? FileManager.default.contentsOfDirectory(atPath: runRoot + "/netns")) ?? []
        leftovers += netns.map { "network namespace \($0)" }
        let links = try Shell.run("/usr/sbin/ip", ["-o", "link", "show", "master", bridge])
        if links.status == 0, !links.stdout.isEmpty { leftovers.append("links on \(bridge): \(links.stdout)") }
        let nat = try Shell.run("/usr/sbin/iptables", ["-t", "nat", "-S"])
        for rule in nat.stdout.split(separator: "\n") where rule.contains(subnet) { leftovers.append("iptables: \(rule)") }
        _ = try? Shell.run("/usr/sbin/ip", ["link", "delete", bridge])
        // This daemon's cgroup parent goes with its last pod.
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        where FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(hierarchy)\(cgroupParent)") {
            leftovers.append("cgroup /sys/fs/cgroup/\(hierarchy)\(cgroupParent)")
        }
        let sandboxes = (try? FileManager.default.contentsOfDirectory(atPath: root + "/cri/sandboxes")) ?? []
        let containers = (try? FileManager.default.contentsOfDirectory(atPath: root + "/cri/containers")) ?? []
        leftovers += sandboxes.map { "sandbox directory \($0)" } + containers.map { "container directory \($0)" }
        if leftovers.isEmpty {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: runRoot)
        }
        return leftovers
    }

    /// A file of this repository (the tests run from its root, or from .build).
    static func source(_ path: String) -> String {
        var directory = binDirectory
        while !directory.isEmpty && directory != "/" {
            if FileManager.default.fileExists(atPath: directory + "/" + path) { return directory + "/" + path }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return path
    }

    // MARK: Helpers for the tests

    func podConfig(_ name: String) -> Runtime_V1_PodSandboxConfig {
        var config = Runtime_V1_PodSandboxConfig()
        config.metadata.name = name
        config.metadata.namespace = "tests"
        config.metadata.uid = Scratch.uniqueID(name)
        config.hostname = name
        config.logDirectory = directory + "/logs/" + name
        config.dnsConfig.servers = ["10.10.10.10"]
        config.dnsConfig.searches = ["example.test"]
        config.dnsConfig.options = ["ndots:3"]
        config.labels = ["suite": "cri"]
        return config
    }

    func containerConfig(_ name: String, command: [String]) -> Runtime_V1_ContainerConfig {
        var config = Runtime_V1_ContainerConfig()
        config.metadata.name = name
        config.image.image = CRIFixture.image
        config.command = command
        config.logPath = name + ".log"
        config.labels = ["container": name]
        return config
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let what: String
    let output: String
    var description: String { "\(what) failed: \(output)" }
}
