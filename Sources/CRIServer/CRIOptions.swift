import CaissonSys

/// Everything `caissond` is told at start (flags and its configuration file): where state
/// lives, where CNI is, which OCI runtime each runtime handler uses.
public struct CRIOptions: Sendable {
    /// Images, containers and pods (default /var/lib/caisson).
    public var root: String
    /// Runtime state, sockets, network namespaces (tmpfs; default /run/caisson).
    public var runRoot: String
    public var registriesConf: String?
    public var authFile: String?
    /// The CNI configuration directory: the first `.conflist` (or `.conf`/`.json`) by name is the pod network.
    public var cniConfigDirectory: String
    public var cniPluginDirectories: [String]
    /// Runtime handler name -> OCI runtime executable; "" is the default handler.
    public var runtimeHandlers: [String: String]
    /// The static `caisson-monitor` (container monitor, pause process, namespace helper).
    public var monitorPath: String
    /// The address the streaming server (exec, attach, port-forward) listens on.
    public var streamAddress: String
    public var streamPort: Int
    /// The cgroup parent of pods whose config names none (each daemon on a host its own).
    public var cgroupParent: String

    public init(root: String = "/var/lib/caisson", runRoot: String = "/run/caisson", registriesConf: String? = nil,
                authFile: String? = nil, cniConfigDirectory: String = "/etc/cni/net.d",
                cniPluginDirectories: [String] = ["/usr/lib/cni", "/opt/cni/bin"],
                runtimeHandlers: [String: String] = [:], monitorPath: String, streamAddress: String = "127.0.0.1",
                streamPort: Int = 0, cgroupParent: String = "/caisson-cri") {
        self.root = root
        self.runRoot = runRoot
        self.registriesConf = registriesConf
        self.authFile = authFile
        self.cniConfigDirectory = cniConfigDirectory
        self.cniPluginDirectories = cniPluginDirectories
        self.runtimeHandlers = runtimeHandlers
        self.monitorPath = monitorPath
        self.streamAddress = streamAddress
        self.streamPort = streamPort
        self.cgroupParent = cgroupParent
    }
}
