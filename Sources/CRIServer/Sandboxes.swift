#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Cgroups
import CRIProto
import Engine
import OCISpec

/// Pod sandboxes: the pause process that holds the pod's namespaces, its network
/// namespace on the CNI network, and the files its containers share (hostname, hosts,
/// resolv.conf, /dev/shm).
extension PodManager {
    static let pauseBinary = "/pause"

    // MARK: Run

    public func runPodSandbox(_ config: Runtime_V1_PodSandboxConfig, runtimeHandler: String) throws(CRIError) -> String {
        let metadata = config.metadata
        guard config.hasMetadata, !metadata.name.isEmpty, !metadata.namespace.isEmpty, !metadata.uid.isEmpty else {
            throw .invalid("the sandbox config needs metadata with a name, a namespace and a uid")
        }
        let runtimePath = try runtimePath(handler: runtimeHandler)
        let id = ContainerEngine.randomID()
        let namespaces = config.linux.securityContext.namespaceOptions
        if namespaces.network == .target || namespaces.ipc == .container || namespaces.ipc == .target {
            throw .invalid("unsupported namespace options for a pod sandbox (network \(namespaces.network), ipc \(namespaces.ipc))")
        }
        if namespaces.hasUsernsOptions, namespaces.usernsOptions.mode != .node {
            throw .invalid("user namespaces for pods (userns mode \(namespaces.usernsOptions.mode)) are not supported by caissond")
        }
        let hostNetwork = namespaces.network == .node
        var record = SandboxRecord(
            id: id, name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, attempt: metadata.attempt,
            createdAt: Timestamps.now(), stopped: false, runtimeHandler: runtimeHandler, runtimePath: runtimePath,
            netnsPath: hostNetwork ? nil : options.runRoot + "/netns/cri-" + id, ip: nil, additionalIPs: [],
            hostname: config.hostname, cgroupParent: config.linux.cgroupParent, hostNetwork: hostNetwork,
            hostIPC: namespaces.ipc == .node, pidMode: namespaces.pid.rawValue, logDirectory: config.logDirectory)
        try store.reserve("sandbox:" + record.key, for: id)
        let directory = store.sandboxDirectory(id)
        do {
            // On disk before anything is made for it: should the daemon die in the
            // middle, it finds this NOTREADY sandbox again and removing it undoes the rest.
            try store.persist(record, config: config)
            try Files.makeDirectories(directory + "/bundle/rootfs", mode: 0o755)
            if !config.logDirectory.isEmpty { try Files.makeDirectories(config.logDirectory, mode: 0o755) }
            // The CNI ADD (tens of milliseconds of plugin runs) goes beside the pause
            // container's create and start; both are done before the pod is reported.
            var attaching: BackgroundJob<[String], CRIError>?
            if let netns = record.netnsPath {
                try cni.createNamespace(at: netns)
                let pending = record
                let network = network
                attaching = BackgroundJob { () throws(CRIError) -> [String] in
                    try network.attach(sandbox: pending, netns: netns, portMappings: config.portMappings)
                }
            }
            do {
                try writeSharedFiles(record, config: config)
                try writePauseBundle(record, config: config)
                try store.save(record, config: config)
                _ = try startUnderMonitor(directory: directory, id: id, runtimePath: runtimePath, extra: [])
            } catch {
                _ = try? attaching?.wait()
                throw error
            }
            if let attaching {
                let addresses = try attaching.wait()
                record.ip = addresses.first
                record.additionalIPs = Array(addresses.dropFirst())
                try writeHosts(record)
                try store.update(record)
            }
        } catch {
            try? stopProcess(directory: directory, id: id, runtimePath: runtimePath, signal: "KILL", timeout: 0)
            _ = try? runtime(runtimePath, ["delete", "--force", id])
            tearDownSandbox(record)
            try? Files.removeTree(directory)
            store.forget(sandbox: record)
            throw CRIError.wrap(error, "failed to run the pod sandbox")
        }
        return id
    }

    /// hostname, hosts and resolv.conf for the pod's containers, and the pod's /dev/shm.
    private func writeSharedFiles(_ record: SandboxRecord, config: Runtime_V1_PodSandboxConfig) throws {
        let directory = store.sandboxDirectory(record.id)
        var hostname = config.hostname
        if record.hostNetwork || hostname.isEmpty {
            var buffer = [CChar](repeating: 0, count: 256)
            gethostname(&buffer, buffer.count)
            let own = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if record.hostNetwork || hostname.isEmpty { hostname = record.hostNetwork ? own : (hostname.isEmpty ? own : hostname) }
        }
        try Files.write(directory + "/hostname", hostname + "\n")
        try writeHosts(record)
        if config.hasDnsConfig {
            let dns = config.dnsConfig
            var text = ""
            if !dns.searches.isEmpty { text += "search " + dns.searches.joined(separator: " ") + "\n" }
            for server in dns.servers { text += "nameserver \(server)\n" }
            if !dns.options.isEmpty { text += "options " + dns.options.joined(separator: " ") + "\n" }
            try Files.write(directory + "/resolv.conf", text)
        } else {
            try Files.write(directory + "/resolv.conf", (try? Files.readString("/etc/resolv.conf")) ?? "")
        }
        if !record.hostIPC {
            try Files.makeDirectories(directory + "/shm", mode: 0o1777)
            let size = 64 * 1024 * 1024
            if mount("shm", directory + "/shm", "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC),
                     "mode=1777,size=\(size)") != 0 {
                throw SysError("mount shm", path: directory + "/shm")
            }
        }
    }

    /// /etc/hosts of the pod: the host's on the host network, else localhost and the pod's own address.
    private func writeHosts(_ record: SandboxRecord) throws {
        let directory = store.sandboxDirectory(record.id)
        if record.hostNetwork {
            try Files.write(directory + "/hosts", (try? Files.readString("/etc/hosts")) ?? "127.0.0.1\tlocalhost\n")
            return
        }
        let hostname = (try? Files.readTrimmed(directory + "/hostname")) ?? record.hostname
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
            + "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
        if let ip = record.ip { hosts += "\(ip)\t\(hostname)\n" }
        try Files.write(directory + "/hosts", hosts)
    }

    /// The pause container: a read-only root holding only `/pause` (caisson-monitor,
    /// bind-mounted), in new PID/IPC/UTS namespaces as the pod asks, in the pod's network
    /// namespace, with the pod's sysctls.
    private func writePauseBundle(_ record: SandboxRecord, config: Runtime_V1_PodSandboxConfig) throws {
        let directory = store.sandboxDirectory(record.id)
        let rootfs = directory + "/bundle/rootfs"
        for name in ["proc", "dev", "sys", "etc"] { try Files.makeDirectories(rootfs + "/" + name, mode: 0o755) }
        if !Files.exists(rootfs + PodManager.pauseBinary) { try Files.write(rootfs + PodManager.pauseBinary, "", mode: 0o755) }
        var spec = DefaultSpec.make(rootless: false)
        spec.process?.args = [PodManager.pauseBinary, "pause"]
        spec.process?.terminal = false
        spec.process?.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        spec.process?.capabilities = Capabilities(bounding: [], effective: [], permitted: [])
        spec.process?.rlimits = nil
        spec.process?.noNewPrivileges = true
        spec.process?.oomScoreAdj = OOMScore.clamped(-998)
        spec.root = Root(path: "rootfs", readonly: true)
        spec.hostname = record.hostNetwork ? nil : ((try? Files.readTrimmed(directory + "/hostname")) ?? record.hostname)
        var mounts = (spec.mounts ?? []).filter { $0.destination != "/sys/fs/cgroup" && $0.destination != "/dev/shm" }
        mounts.append(Mount(destination: PodManager.pauseBinary, type: "bind", source: options.monitorPath, options: ["rbind", "ro"]))
        spec.mounts = mounts
        var linux = spec.linux ?? Linux()
        var namespaces = [Namespace(type: "mount")]
        if record.pidMode != Runtime_V1_NamespaceMode.node.rawValue { namespaces.append(Namespace(type: "pid")) }
        if !record.hostIPC { namespaces.append(Namespace(type: "ipc")) }
        if !record.hostNetwork {
            namespaces.append(Namespace(type: "uts"))
            namespaces.append(Namespace(type: "network", path: record.netnsPath))
        }
        linux.namespaces = namespaces
        linux.sysctl = config.linux.sysctls.isEmpty ? nil : config.linux.sysctls
        linux.cgroupsPath = cgroupsPath(parent: record.cgroupParent, id: record.id)
        spec.linux = linux
        spec.annotations = ["io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": record.id]
        try Files.write(directory + "/bundle/config.json", bytes: SpecJSON.encode(spec, pretty: true), mode: 0o600)
    }

    /// A pod's or container's cgroup: under the kubelet's parent, or the daemon's own.
    func cgroupsPath(parent: String, id: String) -> String {
        let base = parent.isEmpty ? options.cgroupParent : (parent.hasPrefix("/") ? parent : "/" + parent)
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/" + id
    }

    /// The pause process's PID, while it runs.
    func pausePID(_ record: SandboxRecord) -> Int32? {
        let state = store.state(ofDirectory: store.sandboxDirectory(record.id))
        return state.status == .running ? state.pid : nil
    }

    func isReady(_ record: SandboxRecord) -> Bool { !record.stopped && pausePID(record) != nil }

    // MARK: Stop and remove

    public func stopPodSandbox(_ id: String) throws(CRIError) {
        let record: SandboxRecord
        do {
            record = try store.sandbox(id).record
        } catch .notFound {
            return
        }
        for container in store.containers(inSandbox: record.id) {
            try stopContainer(container.id, timeout: 0)
        }
        let directory = store.sandboxDirectory(record.id)
        try stopProcess(directory: directory, id: record.id, runtimePath: record.runtimePath, signal: "KILL", timeout: 0)
        _ = try? runtime(record.runtimePath, ["delete", "--force", record.id])
        tearDownSandbox(record)
        var stopped = record
        stopped.stopped = true
        do { try store.update(stopped) } catch { throw .failed("cannot record the sandbox's stop: \(error)") }
    }

    /// Network, network namespace and /dev/shm of a sandbox (each step safe to repeat).
    private func tearDownSandbox(_ record: SandboxRecord) {
        if let netns = record.netnsPath, Files.exists(netns) {
            try? network.detach(sandbox: record, netns: netns)
            cni.removeNamespace(at: netns)
        }
        let shm = store.sandboxDirectory(record.id) + "/shm"
        umount2(shm, Int32(MNT_DETACH))
    }

    public func removePodSandbox(_ id: String) throws(CRIError) {
        let record: SandboxRecord
        do {
            record = try store.sandbox(id).record
        } catch .notFound {
            return
        }
        for container in store.containers(inSandbox: record.id) {
            try removeContainer(container.id)
        }
        try stopPodSandbox(record.id)
        PodCgroups.removeEmpty(cgroupsPath(parent: record.cgroupParent, id: record.id), layout: cgroupLayout,
                               daemonParent: options.cgroupParent)
        do { try Files.removeTree(store.sandboxDirectory(record.id)) } catch {
            throw .failed("cannot remove the sandbox's directory: \(error)")
        }
        store.forget(sandbox: record)
        cpuSamples.forget("pod-" + record.id)
    }

    // MARK: Status and listing

    public func podSandboxStatus(_ id: String) throws(CRIError) -> Runtime_V1_PodSandboxStatus {
        let (record, config) = try store.sandbox(id)
        var status = Runtime_V1_PodSandboxStatus()
        status.id = record.id
        status.metadata = config.metadata
        status.state = isReady(record) ? .sandboxReady : .sandboxNotready
        status.createdAt = record.createdAt
        if let ip = record.ip, !record.stopped {
            status.network.ip = ip
            status.network.additionalIps = record.additionalIPs.map { var pod = Runtime_V1_PodIP(); pod.ip = $0; return pod }
        }
        status.linux.namespaces.options = config.linux.securityContext.namespaceOptions
        status.labels = config.labels
        status.annotations = config.annotations
        status.runtimeHandler = record.runtimeHandler
        return status
    }

    /// containerd's verbose `info`: the pause pid, the runtime spec, the config, the CNI result.
    public func podSandboxInfo(_ id: String) throws(CRIError) -> [String: String] {
        let (record, config) = try store.sandbox(id)
        return VerboseInfo.sandbox(record: record, config: config, pausePID: pausePID(record),
                                   bundle: store.sandboxDirectory(record.id) + "/bundle",
                                   cniCache: network.cacheFile(record.id))
    }

    public func listPodSandboxes(_ filter: Runtime_V1_PodSandboxFilter?) -> [Runtime_V1_PodSandbox] {
        var result: [Runtime_V1_PodSandbox] = []
        for (record, config) in store.sandboxes() {
            var item = Runtime_V1_PodSandbox()
            item.id = record.id
            item.metadata = config.metadata
            item.state = isReady(record) ? .sandboxReady : .sandboxNotready
            item.createdAt = record.createdAt
            item.labels = config.labels
            item.annotations = config.annotations
            item.runtimeHandler = record.runtimeHandler
            if let filter {
                if !filter.id.isEmpty, !record.id.hasPrefix(filter.id) { continue }
                if filter.hasState, filter.state.state != item.state { continue }
                if !filter.labelSelector.allSatisfy({ config.labels[$0.key] == $0.value }) { continue }
            }
            result.append(item)
        }
        return result.sorted { $0.createdAt > $1.createdAt }
    }
}

/// oom_score_adj without CAP_SYS_RESOURCE: a process may not go below its parent's
/// value, so requests are raised to ours (containerd's restrict_oom_score_adj).
enum OOMScore {
    static func own() -> Int {
        (try? Files.readTrimmed("/proc/self/oom_score_adj")).flatMap { Int($0) } ?? 0
    }

    static func clamped(_ requested: Int) -> Int { max(requested, own()) }
}

/// Removing the cgroups a pod leaves (the runtime removes each container's own): the
/// pod's, and the daemon's own parent (`--cgroup-parent`) once it is empty (rmdir fails
/// while it is not). A parent the kubelet named is the kubelet's to remove.
enum PodCgroups {
    static let defaultParent = "/caisson-cri"

    static func removeEmpty(_ path: String, layout: CgroupLayout?, daemonParent: String) {
        guard let layout else { return }
        let parent = Paths.parent(path)
        for hierarchy in layout.hierarchies {
            rmdir(hierarchy.mountPoint + path)
            if parent == daemonParent { rmdir(hierarchy.mountPoint + parent) }
        }
    }
}
