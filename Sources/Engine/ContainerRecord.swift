import ContainerHealth
import ImageSpec

/// A published port: `-p [IP:]HOST:CONTAINER[/PROTO]`.
public struct PortMapping: Codable, Sendable, Equatable {
    public var hostIP: String
    public var hostPort: Int
    public var containerPort: Int
    public var proto: String

    public init(hostIP: String = "", hostPort: Int, containerPort: Int, proto: String = "tcp") {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }
}

/// A mount requested with -v, --mount-like volume names, or --tmpfs.
public struct MountRequest: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case bind, volume, tmpfs }
    public var kind: Kind
    /// Host path (bind) or volume name (volume); empty for tmpfs.
    public var source: String
    public var destination: String
    public var readOnly: Bool
    public var options: [String]
    /// Bind propagation (`rprivate` unless given): private, rprivate, shared, rshared,
    /// slave, rslave.
    public var propagation: String?
    /// A volume not filled from the image (`volume-nocopy`).
    public var noCopy: Bool?
    /// A bind whose source must exist (`--mount`, docker refuses a missing one; `-v`
    /// creates it).
    public var sourceMustExist: Bool?
    /// A volume made for this container alone under a random name (`-v /path`, an image's
    /// VOLUME): `rm -v` and `--rm` remove it with the container.
    public var anonymous: Bool?

    public init(kind: Kind, source: String, destination: String, readOnly: Bool = false, options: [String] = []) {
        self.kind = kind
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.options = options
    }
}

/// A resource limit for the container's processes (`--ulimit nofile=1024:2048`).
public struct Ulimit: Codable, Sendable, Equatable {
    /// docker's name: nofile, nproc, core, memlock, stack, ...
    public var name: String
    /// -1 is unlimited.
    public var soft: Int64
    public var hard: Int64

    public init(name: String, soft: Int64, hard: Int64) {
        self.name = name
        self.soft = soft
        self.hard = hard
    }
}

/// A host device made available in the container (`--device HOST[:CONTAINER[:rwm]]`).
public struct DeviceMapping: Codable, Sendable, Equatable {
    public var pathOnHost: String
    public var pathInContainer: String
    /// Any of r (read), w (write), m (mknod).
    public var permissions: String

    public init(pathOnHost: String, pathInContainer: String, permissions: String = "rwm") {
        self.pathOnHost = pathOnHost
        self.pathInContainer = pathInContainer
        self.permissions = permissions
    }
}

/// docker's json-file log options (`--log-opt max-size=10m --log-opt max-file=3`).
public struct LogRotation: Codable, Sendable, Equatable {
    /// Bytes after which the log file is rotated.
    public var maxSize: Int64
    /// Files kept, the current one included (docker's default, 1, keeps none behind).
    public var maxFiles: Int

    public init(maxSize: Int64, maxFiles: Int = 1) {
        self.maxSize = maxSize
        self.maxFiles = maxFiles
    }
}

/// Everything `caisson create`/`run` was asked for.
public struct ContainerConfig: Codable, Sendable, Equatable {
    public var image: String
    public var command: [String]?
    public var entrypoint: [String]?
    public var env: [String] = []
    public var user: String?
    public var workingDir: String?
    public var hostname: String?
    /// The UTS namespace's NIS domain name (`--domainname`, docker's Config.Domainname).
    public var domainname: String?
    public var tty = false
    public var interactive = false
    /// docker's StdinOnce: the container's stdin closes when the attached client's input
    /// ends (nil: false, docker's default; `docker run -i` asks for true).
    public var stdinOnce: Bool?
    /// The terminal's first size, rows and columns (docker's HostConfig.ConsoleSize), so a
    /// program that asks at once sees the client's size rather than 0x0.
    public var consoleSize: [Int]?
    public var autoRemove = false
    public var ports: [PortMapping] = []
    public var publishAll = false
    public var mounts: [MountRequest] = []
    public var network = "bridge"
    public var memory: Int64?
    public var cpus: Double?
    public var pidsLimit: Int64?
    public var readOnly = false
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var privileged = false
    public var noNewPrivileges = false
    /// `--security-opt seccomp=unconfined`: no default seccomp profile.
    public var seccompUnconfined: Bool?
    public var restart = "no"
    public var initProcess = false
    public var labels: [String: String] = [:]
    public var stopSignal: String?
    public var stopTimeout: Int?
    /// The health check: the container's own settings until `create`, which lays them over
    /// the image's HEALTHCHECK (docker's merge) and keeps the result. `["NONE"]`: none.
    public var healthcheck: HealthConfig?
    /// The OCI runtime: "caisson-runtime", "runc", "crun" or a path.
    public var runtime = "caisson-runtime"

    // Settings added after the first records were written: optional, so those still decode.

    /// Ports the container exposes besides the image's (`--expose`, Config.ExposedPorts),
    /// as "80/tcp"; `publishAll` publishes them too.
    public var exposedPorts: [String]?
    /// resolv.conf: name servers, search domains and options replacing the host's.
    public var dns: [String]?
    public var dnsSearch: [String]?
    public var dnsOptions: [String]?
    /// Further /etc/hosts lines, "NAME:ADDRESS"; the address `host-gateway` is the
    /// gateway of the container's network.
    public var extraHosts: [String]?
    public var sysctls: [String: String]?
    public var ulimits: [Ulimit]?
    /// Bytes of /dev/shm (64 MiB otherwise).
    public var shmSize: Int64?
    /// Supplementary groups, by name (the image's /etc/group) or number.
    public var groupAdd: [String]?
    public var devices: [DeviceMapping]?
    /// Namespace modes: "" (the container's own), "host", or "container:NAME" (pid, ipc).
    public var pidMode: String?
    public var ipcMode: String?
    public var utsMode: String?
    /// Memory plus swap in bytes (-1: unlimited swap); the soft limit.
    public var memorySwap: Int64?
    public var memoryReservation: Int64?
    /// How readily the kernel swaps the container's memory (0-100; nil: the host's).
    public var memorySwappiness: Int64?
    /// `--oom-kill-disable`: the OOM killer leaves the container's processes alone (cgroup v1).
    public var oomKillDisable: Bool?
    public var cpuShares: Int64?
    public var cpusetCpus: String?
    public var cpusetMems: String?
    /// The CFS period and quota in microseconds (instead of `cpus`).
    public var cpuPeriod: Int64?
    public var cpuQuota: Int64?
    public var oomScoreAdj: Int?
    /// A docker seccomp profile (JSON text, `--security-opt seccomp=FILE`) instead of the default.
    public var seccompProfile: String?
    /// `--security-opt systempaths=unconfined`: no masked or read-only /proc and /sys paths.
    public var unmaskedPaths: Bool?
    public var logRotation: LogRotation?
    /// Further names of the container on its network (`--network-alias`).
    public var networkAliases: [String]?
    /// Set when the container, not running, was disconnected from the network it was made
    /// on (docker-compose does so, then connects it again with its aliases): `network` is
    /// "none" until a connect gives it one again.
    public var leftNetwork: Bool?

    public init(image: String) { self.image = image }
}

/// What the engine knows of a container: its identity, its configuration, and the
/// network it was given. Run state (running, exit code) lives in files the monitor
/// writes and is read fresh each time (`ContainerState`).
public struct ContainerRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var created: String
    public var config: ContainerConfig
    public var imageID: Digest
    /// The resolved OCI runtime executable.
    public var runtimePath: String
    public var ipAddress: String?
    public var gateway: String?
    public var macAddress: String?
    /// The ports actually bound (after -P picked host ports).
    public var publishedPorts: [PortMapping] = []
    public var netnsPath: String?
    /// Further networks (`network connect`), each on an interface of its own.
    public var connections: [NetworkConnection]?

    /// Every network the container is on, with its address there (nil while not attached).
    public var allNetworks: [(name: String, address: String?, mac: String?)] {
        var result: [(name: String, address: String?, mac: String?)] = []
        if config.network != "none" && config.network != "host" { result.append((config.network, ipAddress, macAddress)) }
        for connection in connections ?? [] { result.append((connection.network, connection.ipAddress, connection.macAddress)) }
        return result
    }
}

/// A further network a container is connected to (`network connect`), on its own
/// interface (eth1, eth2, ...) in the container's network namespace.
public struct NetworkConnection: Codable, Sendable, Equatable {
    public var network: String
    public var interface: String
    public var ipAddress: String?
    public var macAddress: String?
    /// Further names of the container on this network (`network connect --alias`).
    public var aliases: [String]?
}

/// A container's run state, from the monitor's files and the runtime.
public struct ContainerState: Sendable, Equatable {
    public enum Status: String, Sendable { case created, running, paused, restarting, exited, dead }
    public var status: Status
    public var pid: Int32?
    public var exitCode: Int32?
    public var startedAt: String?
    public var finishedAt: String?
    public var restartCount: Int
    public var monitorPID: Int32?
    /// docker's `State.Health`, for a container whose health check has run; nil when it
    /// has none (or never started).
    public var health: HealthState?
    /// Why the last start failed (docker's `State.Error`), for a container left created.
    public var error: String?
    /// Whether the kernel's OOM killer ended the last run (docker's `State.OOMKilled`).
    public var oomKilled = false

    public var isRunning: Bool { status == .running || status == .paused || status == .restarting }
}
