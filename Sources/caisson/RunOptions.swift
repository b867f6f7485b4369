#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CaissonSys
import Engine

/// The flags `run` and `create` share, as docker spells them.
struct ContainerOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Keep standard input open.") var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a terminal.") var tty = false
    @Flag(name: .customLong("rm"), help: "Remove the container when it exits.") var autoRemove = false
    @Option(name: .long, help: "Container name.") var name: String?
    @Option(name: [.customShort("e"), .long], help: "Environment variable KEY=VALUE (or KEY, taken from here).") var env: [String] = []
    @Option(name: .customLong("env-file"), help: "File of KEY=VALUE lines.") var envFile: [String] = []
    @Option(name: [.customShort("p"), .customLong("publish")], help: "Publish [IP:]HOST:CONTAINER[/udp].") var publish: [String] = []
    @Flag(name: [.customShort("P"), .customLong("publish-all")], help: "Publish every exposed port to a free host port.") var publishAll = false
    @Option(name: [.customShort("v"), .customLong("volume")], help: "HOST-PATH:PATH[:ro], NAME:PATH[:ro], or PATH (an anonymous volume).") var volumes: [String] = []
    @Option(name: .long, help: "Mount a tmpfs: PATH[:OPTIONS].") var tmpfs: [String] = []
    @Option(name: [.long, .customLong("net")], help: "bridge (default), host, none, or a network's name.") var network = "bridge"
    @Option(name: [.customShort("h"), .long], help: "Host name.") var hostname: String?
    @Option(help: "Container NIS domain name.") var domainname: String?
    @Option(name: [.customShort("m"), .long], help: "Memory limit (e.g. 64m, 1g).") var memory: String?
    @Option(name: .long, help: "CPUs (e.g. 0.5).") var cpus: Double?
    @Option(name: .customLong("pids-limit"), help: "Process limit.") var pidsLimit: Int64?
    @Option(name: [.customShort("u"), .long], help: "USER[:GROUP] (name or id).") var user: String?
    @Option(name: [.customShort("w"), .long], help: "Working directory.") var workdir: String?
    @Option(name: .long, help: "Override the image's entrypoint.") var entrypoint: String?
    @Flag(name: .customLong("read-only"), help: "Mount the root filesystem read-only.") var readOnly = false
    @Option(name: .customLong("cap-add"), help: "Add a capability (or ALL).") var capAdd: [String] = []
    @Option(name: .customLong("cap-drop"), help: "Drop a capability (or ALL).") var capDrop: [String] = []
    @Flag(help: "All capabilities, all devices, no masked paths.") var privileged = false
    @Option(name: .customLong("security-opt"), help: "no-new-privileges[:true|false], seccomp=unconfined|PROFILE.json, systempaths=unconfined, label=disable, apparmor=unconfined.") var securityOpt: [String] = []
    @Option(help: "no, always, unless-stopped, on-failure[:N].") var restart = "no"
    @Flag(help: "Run an init (caisson-init) as PID 1 that forwards signals and reaps zombies.") var `init` = false
    @Option(name: [.customShort("l"), .long], help: "Label KEY=VALUE.") var label: [String] = []
    @Option(name: .customLong("stop-signal"), help: "Signal to stop the container.") var stopSignal: String?
    @Option(name: .customLong("stop-timeout"), help: "Seconds to wait before SIGKILL on stop.") var stopTimeout: Int?
    @Option(help: "OCI runtime: caisson-runtime (default), runc, crun, or a path.") var runtime = "caisson-runtime"
    @Option(help: "Pull the image: missing (default), always, never.") var pull = "missing"
    @Option(name: .customLong("scan-policy"), help: "Check the image against the vulnerability database first: never, warn or block:SEVERITY (default: the config file's scan.policy, else never).") var scanPolicy: String?
    @Option(help: "Platform of the image to pull.") var platform: String?
    @OptionGroup var health: HealthOptions
    @OptionGroup var host: HostOptions

    @Argument(help: "Image") var image: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments") var command: [String] = []

    /// The engine's configuration, or a usage error naming the bad flag value.
    func config() throws -> ContainerConfig {
        var config = ContainerConfig(image: image)
        config.command = command.isEmpty ? nil : command
        if let entrypoint { config.entrypoint = entrypoint.isEmpty ? [] : [entrypoint] }
        config.tty = tty
        config.interactive = interactive
        config.autoRemove = autoRemove
        for file in envFile {
            guard let text = try? Files.readString(file) else { throw CLIError.usage("open \(file): no such file or directory") }
            for line in text.split(separator: "\n") where !line.hasPrefix("#") && !String(line).trimmingSpaces().isEmpty {
                config.env.append(try ContainerOptions.environmentEntry(String(line)))
            }
        }
        for item in env { config.env.append(try ContainerOptions.environmentEntry(item)) }
        config.ports = try publish.flatMap(ContainerOptions.parsePort)
        config.publishAll = publishAll
        for volume in volumes { config.mounts.append(try MountRequest.parseVolume(volume)) }
        for item in tmpfs {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts[0].hasPrefix("/") else { throw CLIError.usage("invalid --tmpfs \"\(item)\": the path must be absolute") }
            config.mounts.append(MountRequest(kind: .tmpfs, source: "", destination: parts[0],
                                              options: parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : []))
        }
        config.network = network == "default" ? "bridge" : network
        if network == "host", !publish.isEmpty { throw CLIError.usage("published ports are discarded when using host network mode") }
        config.hostname = hostname
        config.domainname = domainname
        if let memory { config.memory = try ContainerOptions.parseSize(memory, flag: "--memory") }
        if let cpus {
            guard cpus > 0, cpus <= 1024 else { throw CLIError.usage("invalid --cpus \(cpus): must be above 0") }
            config.cpus = cpus
        }
        if let pidsLimit {
            guard pidsLimit > 0 || pidsLimit == -1 else { throw CLIError.usage("invalid --pids-limit \(pidsLimit)") }
            config.pidsLimit = pidsLimit
        }
        config.user = user
        if let workdir {
            guard workdir.hasPrefix("/") else { throw CLIError.usage("the working directory '\(workdir)' is invalid, it needs to be an absolute path") }
            config.workingDir = workdir
        }
        config.readOnly = readOnly
        config.capAdd = capAdd
        config.capDrop = capDrop
        config.privileged = privileged
        // docker's CLI sends a seccomp profile's JSON rather than its file name; so do we.
        try config.applySecurityOptions(securityOpt.map { option in
            guard option.hasPrefix("seccomp=") || option.hasPrefix("seccomp:") else { return option }
            let value = String(option.dropFirst(8))
            guard value != "unconfined", !value.hasPrefix("{") else { return option }
            guard let profile = try? Files.readString(value) else {
                throw CLIError.usage("invalid --security-opt \"\(option)\": cannot read the seccomp profile \(value)")
            }
            return "seccomp=" + profile
        })
        try ContainerConfig.checkRestartPolicy(restart, autoRemove: autoRemove)
        config.restart = restart
        config.initProcess = self.`init`
        for item in label {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            config.labels[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        if let stopSignal {
            guard (try? Signals.parse(stopSignal)) != nil else { throw CLIError.usage("invalid signal: \(stopSignal)") }
            config.stopSignal = stopSignal
        }
        config.stopTimeout = stopTimeout
        config.healthcheck = try health.config()
        config.runtime = runtime
        try host.apply(to: &config)
        guard ["missing", "always", "never"].contains(pull) else { throw CLIError.usage("invalid --pull \"\(pull)\": missing, always or never") }
        return config
    }

    static func environmentEntry(_ item: String) throws -> String {
        if item.contains("=") {
            guard !item.hasPrefix("=") else { throw CLIError.usage("invalid environment variable: \(item)") }
            return item
        }
        if let value = getenv(item) { return item + "=" + String(cString: value) }
        return item
    }

    /// `[IP:]HOST:CONTAINER[/PROTO]`, `CONTAINER[/PROTO]`, and port ranges.
    static func parsePort(_ text: String) throws -> [PortMapping] {
        var spec = Substring(text)
        var proto = "tcp"
        if let slash = spec.lastIndex(of: "/") {
            proto = String(spec[spec.index(after: slash)...])
            spec = spec[..<slash]
        }
        guard ["tcp", "udp", "sctp"].contains(proto) else { throw CLIError.usage("invalid proto: \(proto)") }
        var parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var hostIP = ""
        if parts.count == 3 { hostIP = parts.removeFirst() }
        guard parts.count <= 2, let containerRange = range(parts.last ?? "") else {
            throw CLIError.usage("invalid port specification: \"\(text)\"")
        }
        var hostRange: ClosedRange<Int>? = nil
        if parts.count == 2, !parts[0].isEmpty {
            guard let parsed = range(parts[0]), parsed.count == containerRange.count || parsed.count == 1 else {
                throw CLIError.usage("invalid port specification: \"\(text)\"")
            }
            hostRange = parsed
        }
        // Host port 0: the engine picks a free one at create.
        return containerRange.enumerated().map { offset, port in
            let host = hostRange.map { $0.count == 1 ? $0.lowerBound : $0.lowerBound + offset }
            return PortMapping(hostIP: hostIP, hostPort: host ?? 0, containerPort: port, proto: proto)
        }
    }

    static func range(_ text: String) -> ClosedRange<Int>? {
        let bounds = text.split(separator: "-").map { Int($0) }
        guard bounds.count == 1 || bounds.count == 2, bounds.allSatisfy({ $0 != nil && $0! > 0 && $0! < 65536 }) else { return nil }
        let low = bounds[0]!, high = bounds.count == 2 ? bounds[1]! : low
        return low <= high ? low...high : nil
    }

    /// `64m`, `1g`, `512k`, bytes (the engine's `ByteSize`).
    static func parseSize(_ text: String, flag: String) throws -> Int64 {
        guard let bytes = ByteSize.parse(text), bytes > 0 else {
            throw CLIError.usage("invalid \(flag) \"\(text)\": expected a size such as 64m or 1g")
        }
        return bytes
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }
}
