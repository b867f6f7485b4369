import CaissonSys

/// A cgroup operation that failed, or a limit the host cannot enforce.
public enum CgroupError: Error, CustomStringConvertible, Sendable {
    case system(SysError)
    case unsupported(String)
    case invalidPath(String)

    public var description: String {
        switch self {
        case .system(let error): return "cgroup: \(error)"
        case .unsupported(let message): return "cgroup: \(message)"
        case .invalidPath(let message): return "cgroup: \(message)"
        }
    }
}
