import CaissonSys

/// A cgroup operation that failed, or a limit the host cannot enforce.
public enum CgroupError: Error, CustomStringConvertible, Sendable {
    case system(SysError)
    case unsupported(String)
    case invalidPath(String)
    /// An `exec --cgroup` argument runc would refuse (its wording, without a prefix).
    case invalidSubCgroup(String)
    /// A setting this host's cgroups cannot carry, found before anything is created
    /// (runc's "invalid configuration: ..." errors).
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .system(let error): return "cgroup: \(error)"
        case .unsupported(let message): return "cgroup: \(message)"
        case .invalidPath(let message): return "cgroup: \(message)"
        case .invalidSubCgroup(let message): return message
        case .invalidConfiguration(let message): return "invalid configuration: \(message)"
        }
    }
}
