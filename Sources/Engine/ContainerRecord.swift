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

    public init(kind: Kind, source: String, destination: String, readOnly: Bool = false, options: [String] = []) {
        self.kind = kind
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.options = options
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
    public var tty = false
    public var interactive = false
    /// docker's StdinOnce: the container's stdin closes when the attached client's input
    /// ends (nil: false, docker's default; `docker run -i` asks for true).
    public var stdinOnce: Bool?
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

    public var isRunning: Bool { status == .running || status == .paused || status == .restarting }
}
