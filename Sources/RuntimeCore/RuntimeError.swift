import CaissonSys
import Cgroups
import OCISpec

/// Everything that can make a runtime command fail, each with the context a user
/// needs to act on it.
public enum RuntimeError: Error, CustomStringConvertible {
    case system(SysError)
    case config(ConfigError)
    case cgroup(CgroupError)
    case containerExists(String)
    case containerNotFound(String)
    case invalidID(String)
    case wrongState(id: String, status: ContainerStatus, operation: String)
    case usage(String)
    case initFailed(String)
    case hookFailed(String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .system(let error): return error.description
        case .config(let error): return error.description
        case .cgroup(let error): return error.description
        case .containerExists(let id): return "container \"\(id)\" already exists"
        case .containerNotFound(let id): return "container \"\(id)\" does not exist"
        case .invalidID(let id): return "invalid container id \"\(id)\": use letters, digits, '_', '+', '-' and '.'"
        case .wrongState(let id, let status, let operation):
            return "cannot \(operation) container \"\(id)\": it is \(status.rawValue)"
        case .usage(let message): return message
        case .initFailed(let message): return message
        case .hookFailed(let message): return message
        case .unsupported(let message): return message
        }
    }

    /// Wraps any error thrown below into a RuntimeError.
    public static func wrap(_ error: any Error) -> RuntimeError {
        switch error {
        case let error as RuntimeError: return error
        case let error as SysError: return .system(error)
        case let error as ConfigError: return .config(error)
        case let error as CgroupError: return .cgroup(error)
        default: return .initFailed("\(error)")
        }
    }
}
