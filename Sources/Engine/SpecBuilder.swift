#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import ImageSpec
import Images
import OCISpec

/// Turns a container's configuration into its bundle's config.json: the image's
/// settings (through `ImageService.makeSpec`), then docker's: /etc/hosts, resolv.conf and
/// hostname from the container's directory, volumes, binds and tmpfs, the network
/// namespace, resources, capabilities, read-only root, privileged mode, `--init`.
public struct SpecBuilder {
    let engine: ContainerEngine

    public static let allCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    func writeConfig(_ record: ContainerRecord, image: ImageRecord) throws {
        let config = record.config
        let directory = engine.directory(of: record.id)
        let rootfs = engine.bundle(of: record.id) + "/rootfs"
        var overrides = RunOverrides()
        overrides.entrypoint = config.entrypoint
        overrides.command = config.command
        overrides.env = config.env
        overrides.user = config.user
        overrides.workingDir = config.workingDir
        overrides.hostname = config.hostname
        overrides.terminal = config.tty
        overrides.readOnly = config.readOnly
        var spec = try engine.images.makeSpec(image, rootfs: rootfs, overrides: overrides)
        if let domain = config.domainname, !domain.isEmpty { spec.domainname = domain }
        var process = spec.process ?? Process()
        if config.tty, let size = config.consoleSize, size.count == 2, size[0] > 0, size[1] > 0 {
            process.consoleSize = ConsoleSize(height: UInt(size[0]), width: UInt(size[1]))
        }
        var linux = spec.linux ?? Linux()
        var mounts = spec.mounts ?? []

        // Files the engine owns, bind-mounted over the image's.
        try Files.write(directory + "/hostname", (config.hostname ?? "") + "\n")
        // With its peers: written again by `update` or a start, the file is the one the running container reads.
        let peers = ((try? engine.store.containers()) ?? []).map { $0.id == record.id ? record : $0 }
        try Files.write(directory + "/hosts", HostsFile.text(for: record, peers: peers, gateway: engine.hostGateway(of: record)))
        let resolv = ResolvConf.text(host: (try? Files.readString("/etc/resolv.conf")) ?? "", servers: config.dns,
                                     search: config.dnsSearch, options: config.dnsOptions)
        try Files.write(directory + "/resolv.conf", resolv)
        for (file, target) in [("hosts", "/etc/hosts"), ("resolv.conf", "/etc/resolv.conf"), ("hostname", "/etc/hostname")] {
            mounts.append(Mount(destination: target, type: "bind", source: directory + "/" + file,
                                options: ["rbind", "rprivate"] + (config.readOnly ? ["ro"] : [])))
        }

        for request in config.mounts {
            switch request.kind {
            case .bind:
                if !Files.exists(request.source) { try Files.makeDirectories(request.source) }
                mounts.append(Mount(destination: request.destination, type: "bind", source: request.source,
                                    options: ["rbind"] + (request.readOnly ? ["ro"] : ["rw"]) + request.options
                                        + [request.propagation ?? "rprivate"]))
            case .volume:
                let labels = request.anonymous == true ? ["com.docker.volume.anonymous": ""] : [:]
                let (volume, created) = try engine.ensureVolumeReportingCreation(request.source, labels: labels)
                if created, request.noCopy != true { engine.seedVolume(volume, fromRootfs: rootfs, path: request.destination) }
                mounts.append(Mount(destination: request.destination, type: "bind", source: volume.mountpoint,
                                    options: ["rbind"] + (request.readOnly ? ["ro"] : ["rw"])))
            case .tmpfs:
                mounts.append(Mount(destination: request.destination, type: "tmpfs", source: "tmpfs",
                                    options: TmpfsOptions.merged(request.options)))
            }
        }

        if config.initProcess {
            mounts.append(Mount(destination: "/sbin/caisson-init", type: "bind", source: engine.options.monitorPath,
                                options: ["rbind", "ro"]))
            process.args = ["/sbin/caisson-init", "init", "--"] + (process.args ?? [])
        }

        // Namespaces: the network one is the engine's (or the host's); pid, ipc and uts
        // as the container's modes ask.
        var namespaces = linux.namespaces ?? []
        namespaces.removeAll { $0.type == "network" }
        if let netns = record.netnsPath { namespaces.append(Namespace(type: "network", path: netns)) }
        linux.namespaces = namespaces
        try applyNamespaceModes(config, spec: &spec, linux: &linux, mounts: &mounts)
        linux.cgroupsPath = "/caisson/" + record.id

        var resources = linux.resources ?? Resources()
        SpecBuilder.applyResources(config, to: &resources)
        try applyProcessSettings(config, rootfs: rootfs, process: &process, linux: &linux, resources: &resources, mounts: &mounts)

        var capabilities = process.capabilities?.bounding ?? []
        if config.privileged {
            capabilities = SpecBuilder.allCapabilities
            linux.maskedPaths = []
            linux.readonlyPaths = []
            resources.devices = [DeviceCgroupRule(allow: true, access: "rwm")]
            if let index = mounts.firstIndex(where: { $0.destination == "/sys" }) { mounts[index].options?.removeAll { $0 == "ro" } }
        }
        for cap in config.capAdd {
            let name = SpecBuilder.capabilityName(cap)
            if name == "ALL" { capabilities = SpecBuilder.allCapabilities } else if !capabilities.contains(name) { capabilities.append(name) }
        }
        for cap in config.capDrop {
            let name = SpecBuilder.capabilityName(cap)
            if name == "ALL" { capabilities = [] } else { capabilities.removeAll { $0 == name } }
        }
        process.capabilities = Capabilities(bounding: capabilities, effective: capabilities, permitted: capabilities)
        if let text = config.seccompProfile {
            do { linux.seccomp = try SeccompProfile(json: text).oci(capabilities: capabilities) } catch {
                throw EngineError.invalidSetting(.securityOpt, "the seccomp profile: \(error)")
            }
        } else if !config.privileged, config.seccompUnconfined != true {
            linux.seccomp = DefaultSeccomp.profile(capabilities: capabilities)
        }
        if config.unmaskedPaths == true {
            linux.maskedPaths = []
            linux.readonlyPaths = []
        }
        process.noNewPrivileges = config.noNewPrivileges
        // docker's daemon environment: HOSTNAME after PATH, unless the container sets its own.
        if let hostname = config.hostname, var env = process.env, !env.contains(where: { $0.hasPrefix("HOSTNAME=") }) {
            env.insert("HOSTNAME=" + hostname, at: env.firstIndex { $0.hasPrefix("PATH=") }.map { $0 + 1 } ?? 0)
            process.env = env
        }
        linux.resources = resources
        spec.process = process
        spec.linux = linux
        spec.mounts = mounts
        spec.annotations = (spec.annotations ?? [:]).merging(config.labels) { $1 }
        try Files.write(engine.bundle(of: record.id) + "/config.json", bytes: SpecJSON.encode(spec, pretty: true), mode: 0o600)
        SpecArgs.write(spec.process?.args ?? [], engine, record.id)
    }

    public static func capabilityName(_ text: String) -> String {
        let upper = Text.asciiUppercased(text)
        if upper == "ALL" { return upper }
        return upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
    }
}

/// docker-style random names: adjective_surname.
enum NameGenerator {
    static let adjectives = ["brave", "calm", "eager", "fond", "gentle", "happy", "jolly", "keen", "lucid", "merry",
                             "nifty", "proud", "quiet", "sharp", "tender", "upbeat", "vivid", "witty", "zealous", "bold"]
    static let names = ["archimedes", "babbage", "curie", "dijkstra", "euler", "fermat", "galileo", "hopper", "kepler",
                        "lovelace", "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak", "lamport"]

    static func name(avoiding taken: Set<String>) -> String {
        var bytes = [UInt8](repeating: 0, count: 4)
        for attempt in 0..<64 {
            bytes = Files.randomBytes(4)
            var name = adjectives[Int(bytes[0]) % adjectives.count] + "_" + names[Int(bytes[1]) % names.count]
            if attempt > 8 { name += String(Int(bytes[2]) % 10) }
            if !taken.contains(name) { return name }
        }
        return "container_" + String(Int(bytes[3]))
    }
}
