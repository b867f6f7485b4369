#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import CRIProto
import Engine
import Images
import OCISpec

/// Builds a pod container's config.json from its CRI config, the image and its sandbox:
/// the image's command, environment and user with the kubelet's overrides; the pod's
/// namespaces (through the pause process), its hosts, resolv.conf, hostname and /dev/shm;
/// mounts with their propagation; the security context; and resources.
struct ContainerSpecBuilder {
    let manager: PodManager
    let sandbox: SandboxRecord
    let pausePID: Int32
    let image: ImageRecord
    let config: Runtime_V1_ContainerConfig
    let id: String
    let rootfs: String

    /// docker's (and containerd's) default capabilities.
    static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    func build(cgroupsPath: String) throws(CRIError) -> Spec {
        let security = config.linux.securityContext
        var overrides = RunOverrides()
        if !config.command.isEmpty { overrides.entrypoint = config.command }
        if !config.args.isEmpty { overrides.command = config.args }
        overrides.env = config.envs.map { "\($0.key)=\($0.value)" }
        overrides.workingDir = config.workingDir.isEmpty ? nil : config.workingDir
        overrides.terminal = config.tty
        overrides.readOnly = security.readonlyRootfs
        overrides.user = try userSpec(security)
        var spec: Spec
        do {
            spec = try manager.images.makeSpec(image, rootfs: rootfs, overrides: overrides)
        } catch {
            throw .invalid("cannot build the container's configuration: \(error)")
        }
        var process = spec.process ?? Process(user: User(uid: 0, gid: 0), cwd: "/")
        var linux = spec.linux ?? Linux()
        var mounts = (spec.mounts ?? []).filter { $0.destination != "/dev/shm" }

        // Supplemental groups: the image's memberships (resolved above) plus the pod's.
        var groups = process.user.additionalGids ?? []
        for gid in security.supplementalGroups where !groups.contains(UInt32(truncatingIfNeeded: gid)) {
            groups.append(UInt32(truncatingIfNeeded: gid))
        }
        process.user.additionalGids = groups.isEmpty ? nil : groups
        process.terminal = config.tty

        // The pod's files and /dev/shm, unless the kubelet mounts its own.
        let sandboxDirectory = manager.store.sandboxDirectory(sandbox.id)
        let requested = Set(config.mounts.map(\.containerPath))
        for (file, target) in [("hosts", "/etc/hosts"), ("resolv.conf", "/etc/resolv.conf"), ("hostname", "/etc/hostname")]
        where !requested.contains(target) {
            mounts.append(Mount(destination: target, type: "bind", source: sandboxDirectory + "/" + file,
                                options: ["rbind", "rprivate"] + (security.readonlyRootfs ? ["ro"] : ["rw"])))
        }
        if !requested.contains("/dev/shm") {
            let shm = sandbox.hostIPC ? "/dev/shm" : sandboxDirectory + "/shm"
            mounts.append(Mount(destination: "/dev/shm", type: "bind", source: shm, options: ["rbind", "rprivate", "rw"]))
        }

        // The kubelet's mounts.
        var propagation: String?
        for mount in config.mounts {
            guard mount.containerPath.hasPrefix("/") else {
                throw .invalid("mount destination \"\(mount.containerPath)\" is not absolute")
            }
            var source = mount.hostPath
            if !Files.exists(source) {
                do { try Files.makeDirectories(source, mode: 0o755) } catch {
                    throw .invalid("cannot create the mount source \(source): \(error)")
                }
            }
            source = PodManager.realPath(source) ?? source
            var options = ["rbind", mount.readonly ? "ro" : "rw"]
            switch mount.propagation {
            case .propagationBidirectional:
                options.append("rshared")
                propagation = "rshared"
            case .propagationHostToContainer:
                options.append("rslave")
                if propagation != "rshared" { propagation = "rslave" }
            default:
                options.append("rprivate")
            }
            mounts.append(Mount(destination: mount.containerPath, type: "bind", source: source, options: options))
        }
        if let propagation { linux.rootfsPropagation = propagation }

        // Namespaces: the pod's, through its pause process.
        let options = security.namespaceOptions
        var namespaces = [Namespace(type: "mount")]
        if !sandbox.hostNetwork {
            namespaces.append(Namespace(type: "network", path: "/proc/\(pausePID)/ns/net"))
            namespaces.append(Namespace(type: "uts", path: "/proc/\(pausePID)/ns/uts"))
        }
        if !sandbox.hostIPC { namespaces.append(Namespace(type: "ipc", path: "/proc/\(pausePID)/ns/ipc")) }
        switch options.pid {
        case .node:
            break
        case .container:
            namespaces.append(Namespace(type: "pid"))
        case .target:
            let target = try manager.store.container(options.targetID).record
            guard let pid = manager.store.state(ofDirectory: manager.store.containerDirectory(target.id)).pid else {
                throw .failedPrecondition("the target container \(options.targetID) of the PID namespace is not running")
            }
            namespaces.append(Namespace(type: "pid", path: "/proc/\(pid)/ns/pid"))
        default:
            namespaces.append(Namespace(type: "pid", path: "/proc/\(pausePID)/ns/pid"))
        }
        linux.namespaces = namespaces
        spec.hostname = nil
        linux.cgroupsPath = cgroupsPath

        // Security context.
        var capabilities = ContainerSpecBuilder.defaultCapabilities
        if security.privileged {
            capabilities = SpecBuilder.allCapabilities
            linux.maskedPaths = []
            linux.readonlyPaths = []
            var resources = linux.resources ?? Resources()
            resources.devices = [DeviceCgroupRule(allow: true, access: "rwm")]
            linux.resources = resources
            for index in mounts.indices where mounts[index].destination == "/sys" || mounts[index].destination == "/sys/fs/cgroup" {
                mounts[index].options?.removeAll { $0 == "ro" }
                mounts[index].options?.append("rw")
            }
            linux.devices = PodManager.hostDevices()
        } else {
            if !security.maskedPaths.isEmpty { linux.maskedPaths = security.maskedPaths }
            if !security.readonlyPaths.isEmpty { linux.readonlyPaths = security.readonlyPaths }
        }
        for name in security.capabilities.addCapabilities {
            let cap = SpecBuilder.capabilityName(name)
            if cap == "ALL" { capabilities = SpecBuilder.allCapabilities } else if !capabilities.contains(cap) { capabilities.append(cap) }
        }
        for name in security.capabilities.dropCapabilities {
            let cap = SpecBuilder.capabilityName(name)
            if cap == "ALL" { capabilities = [] } else { capabilities.removeAll { $0 == cap } }
        }
        // Adding after dropping ALL keeps the added ones (containerd's order: drop ALL first).
        if security.capabilities.dropCapabilities.contains(where: { SpecBuilder.capabilityName($0) == "ALL" }) {
            for name in security.capabilities.addCapabilities where SpecBuilder.capabilityName(name) != "ALL" {
                let cap = SpecBuilder.capabilityName(name)
                if !capabilities.contains(cap) { capabilities.append(cap) }
            }
        }
        // Only what this daemon holds can be granted (containerd does the same): on a host
        // without CAP_SYS_RESOURCE, "ALL" and privileged mean all the others.
        let held = PodManager.heldCapabilities
        capabilities.removeAll { !held.contains($0) }
        let ambient = security.capabilities.addAmbientCapabilities.map(SpecBuilder.capabilityName).filter { held.contains($0) }
        // A non-root user keeps capabilities only as ambient ones; the effective set of the
        // new process follows from the permitted set and the user (as runc computes it).
        process.capabilities = Capabilities(bounding: capabilities, effective: capabilities, inheritable: ambient.isEmpty ? nil : ambient,
                                            permitted: capabilities, ambient: ambient.isEmpty ? nil : ambient)
        process.noNewPrivileges = security.noNewPrivs
        process.rlimits = nil
        linux.seccomp = try seccomp(security, capabilities: capabilities)

        // Devices the kubelet passes (device plugins): the host's node, and a cgroup rule.
        if !config.cdiDevices.isEmpty {
            throw .invalid("CDI devices are not supported (asked for \(config.cdiDevices.map(\.name).joined(separator: ", ")))")
        }
        if !security.privileged {
            for device in config.devices {
                let (node, rule) = try ContainerSpecBuilder.device(device)
                linux.devices = (linux.devices ?? []) + [node]
                var resources = linux.resources ?? Resources()
                resources.devices = (resources.devices ?? []) + [rule]
                linux.resources = resources
            }
        }

        // Resources.
        if config.linux.hasResources {
            linux.resources = ContainerSpecBuilder.resources(config.linux.resources, base: linux.resources)
            if config.linux.resources.oomScoreAdj != 0 {
                process.oomScoreAdj = OOMScore.clamped(Int(config.linux.resources.oomScoreAdj))
            }
        }

        spec.process = process
        spec.linux = linux
        spec.mounts = mounts
        var annotations = spec.annotations ?? [:]
        for (key, value) in config.annotations { annotations[key] = value }
        annotations["io.kubernetes.cri.container-type"] = "container"
        annotations["io.kubernetes.cri.sandbox-id"] = sandbox.id
        annotations["io.kubernetes.cri.container-name"] = config.metadata.name
        spec.annotations = annotations
        return spec
    }

    /// The user as `makeSpec` takes it: "uid", "uid:gid", "name" or "name:gid".
    private func userSpec(_ security: Runtime_V1_LinuxContainerSecurityContext) throws(CRIError) -> String? {
        var user: String?
        if security.hasRunAsUser {
            guard security.runAsUser.value >= 0, security.runAsUser.value <= Int64(UInt32.max) else {
                throw .invalid("run_as_user \(security.runAsUser.value) is out of range")
            }
            user = String(security.runAsUser.value)
        } else if !security.runAsUsername.isEmpty {
            user = security.runAsUsername
        }
        if security.hasRunAsGroup {
            guard let user else {
                throw .invalid("run_as_group is set without run_as_user or run_as_username")
            }
            return user + ":" + String(security.runAsGroup.value)
        }
        return user
    }

    /// unconfined, runtime/default (our default profile) or a localhost profile file;
    /// privileged containers run unconfined.
    private func seccomp(_ security: Runtime_V1_LinuxContainerSecurityContext, capabilities: [String]) throws(CRIError) -> Seccomp? {
        if security.privileged { return nil }
        var kind = "unconfined"
        var localhost = ""
        if security.hasSeccomp {
            switch security.seccomp.profileType {
            case .runtimeDefault: kind = "default"
            case .localhost:
                kind = "localhost"
                localhost = security.seccomp.localhostRef
            default: kind = "unconfined"
            }
        } else if !security.seccompProfilePath.isEmpty {
            let path = security.seccompProfilePath
            if path == "runtime/default" || path == "docker/default" {
                kind = "default"
            } else if path.hasPrefix("localhost/") {
                kind = "localhost"
                localhost = String(path.dropFirst("localhost/".count))
            } else if path != "unconfined" {
                throw .invalid("unknown seccomp profile \"\(path)\"")
            }
        }
        switch kind {
        case "default":
            return DefaultSeccomp.profile(capabilities: capabilities)
        case "localhost":
            guard let bytes = try? Files.readBytes(localhost) else {
                throw .invalid("cannot read the seccomp profile \(localhost)")
            }
            do {
                return try SpecJSON.decode(Seccomp.self, from: bytes, file: localhost)
            } catch {
                throw .invalid("the seccomp profile \(localhost) is not valid: \(error)")
            }
        default:
            return nil
        }
    }

    /// A host device node for the container (at `container_path`) and the cgroup rule that
    /// lets it be used with `permissions` (r, w, m).
    static func device(_ device: Runtime_V1_Device) throws(CRIError) -> (Device, DeviceCgroupRule) {
        var info = stat()
        guard stat(device.hostPath, &info) == 0 else { throw .invalid("device \(device.hostPath): \(SysError("stat", path: device.hostPath))") }
        let type = info.st_mode & S_IFMT
        guard type == S_IFCHR || type == S_IFBLK else { throw .invalid("\(device.hostPath) is not a device node") }
        let permissions = device.permissions.isEmpty ? "rwm" : device.permissions
        guard permissions.allSatisfy({ "rwm".contains($0) }) else {
            throw .invalid("device \(device.hostPath): invalid permissions \"\(device.permissions)\" (r, w and m)")
        }
        let (major, minor) = PodManager.deviceNumbers(info.st_rdev)
        let kind = type == S_IFCHR ? "c" : "b"
        let path = device.containerPath.isEmpty ? device.hostPath : device.containerPath
        guard path.hasPrefix("/") else { throw .invalid("device container path \"\(path)\" is not absolute") }
        return (Device(type: kind, path: path, major: major, minor: minor, fileMode: UInt32(info.st_mode & 0o777), uid: 0, gid: 0),
                DeviceCgroupRule(allow: true, type: kind, major: major, minor: minor, access: permissions))
    }

    static func resources(_ request: Runtime_V1_LinuxContainerResources, base: Resources?) -> Resources {
        var resources = base ?? Resources()
        var cpu = resources.cpu ?? Resources.CPU()
        if request.cpuPeriod > 0 { cpu.period = UInt64(request.cpuPeriod) }
        if request.cpuQuota > 0 { cpu.quota = request.cpuQuota }
        if request.cpuShares > 0 { cpu.shares = UInt64(request.cpuShares) }
        if !request.cpusetCpus.isEmpty { cpu.cpus = request.cpusetCpus }
        if !request.cpusetMems.isEmpty { cpu.mems = request.cpusetMems }
        resources.cpu = cpu
        if request.memoryLimitInBytes > 0 {
            var memory = resources.memory ?? Resources.Memory()
            memory.limit = request.memoryLimitInBytes
            if request.memorySwapLimitInBytes > 0 { memory.swap = request.memorySwapLimitInBytes }
            resources.memory = memory
        }
        if !request.hugepageLimits.isEmpty {
            resources.hugepageLimits = request.hugepageLimits.map { Resources.HugepageLimit(pageSize: $0.pageSize, limit: $0.limit) }
        }
        if !request.unified.isEmpty { resources.unified = request.unified }
        return resources
    }
}

extension PodManager {
    /// The capabilities in this process's bounding set (/proc/self/status CapBnd).
    static let heldCapabilities: Set<String> = {
        guard let status = try? Files.readString("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapBnd:") }),
              let mask = UInt64(String(line.dropFirst("CapBnd:".count)).trimmingCharacters(in: " \t"), radix: 16) else {
            return Set(SpecBuilder.allCapabilities)
        }
        // SpecBuilder.allCapabilities is in capability-number order.
        var held = Set<String>()
        for (number, name) in SpecBuilder.allCapabilities.enumerated() where mask & (1 << UInt64(number)) != 0 {
            held.insert(name)
        }
        return held
    }()

    /// A path with its symbolic links resolved.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A device number's major and minor (glibc's encoding, as its major()/minor() macros decode it).
    static func deviceNumbers(_ rdev: dev_t) -> (Int64, Int64) {
        let raw = UInt64(rdev)
        return (Int64(((raw >> 8) & 0xfff) | ((raw >> 32) & ~UInt64(0xfff))), Int64((raw & 0xff) | ((raw >> 12) & ~UInt64(0xff))))
    }

    /// The host's devices, for privileged containers (as containerd and docker give them).
    static func hostDevices() -> [Device] {
        var devices: [Device] = []
        func walk(_ directory: String, depth: Int) {
            guard depth < 3, let names = try? Files.listDirectory(directory) else { return }
            for name in names {
                let path = directory + "/" + name
                if ["pts", "shm", "mqueue", "fd", "core", "stdin", "stdout", "stderr", "console", "ptmx"].contains(name) && depth == 0 { continue }
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                let type = info.st_mode & S_IFMT
                if type == S_IFDIR { walk(path, depth: depth + 1); continue }
                guard type == S_IFCHR || type == S_IFBLK else { continue }
                let (major, minor) = deviceNumbers(info.st_rdev)
                devices.append(Device(type: type == S_IFCHR ? "c" : "b", path: path, major: major, minor: minor,
                                      fileMode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid))
            }
        }
        walk("/dev", depth: 0)
        return devices
    }
}
