/// Options of `create` and `run`, as runc names them.
public struct CreateOptions {
    public var bundle: String
    public var pidFile: String?
    public var consoleSocket: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFDs = 0

    public init(bundle: String) {
        self.bundle = bundle
    }
}

/// Options of `exec`.
public struct ExecOptions {
    public var pidFile: String?
    public var consoleSocket: String?
    public var detach = false
    public var preserveFDs = 0
    /// Exec even into a paused container (the process starts frozen until `resume`).
    public var ignorePaused = false
    /// `--cgroup` arguments: sub-cgroups of the container's to join (`PATH`, or
    /// `CONTROLLER[,CONTROLLER...]:PATH`, repeatable).
    public var subCgroups: [String] = []

    public init() {}
}
