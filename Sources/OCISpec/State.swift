/// Lifecycle status of a container, as the OCI state reports it.
public enum ContainerStatus: String, Codable, Sendable {
    case creating, created, running, stopped, paused
}

/// The OCI state document printed by `state`, plus runc's extra fields
/// (rootfs, created, owner) that engines read.
public struct ContainerStateDocument: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var status: ContainerStatus
    public var pid: Int32
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var annotations: [String: String]?

    public init(ociVersion: String = Spec.version, id: String, status: ContainerStatus, pid: Int32,
                bundle: String, rootfs: String, created: String, owner: String,
                annotations: [String: String]?) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations
    }
}

/// The state given to hooks on their standard input (runtime-spec "state").
public struct HookState: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var status: ContainerStatus
    public var pid: Int32?
    public var bundle: String
    public var annotations: [String: String]?

    public init(id: String, status: ContainerStatus, pid: Int32?, bundle: String, annotations: [String: String]?) {
        self.ociVersion = Spec.version
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }
}
