#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import ImageSpec
import Images

/// Why a build failed, with what a user needs to fix it: the step, its exit status and
/// the last lines it printed; or the underlying image or system error.
public enum BuildError: Error, CustomStringConvertible, Sendable {
    case stepFailed(step: String, status: Int32, lastLines: [String])
    case image(ImageError)
    case system(SysError)
    case invalid(String)
    /// The build was interrupted (Ctrl-C, SIGTERM) and stopped; nothing was kept.
    case interrupted

    public var description: String {
        switch self {
        case .stepFailed(let step, let status, let lines):
            let tail = lines.isEmpty ? "" : "\n" + lines.map { "  " + $0 }.joined(separator: "\n")
            return "step \"\(step)\" failed with exit status \(status)\(tail)"
        case .image(let error): return "\(error)"
        case .system(let error): return "\(error)"
        case .invalid(let message): return message
        case .interrupted: return "the build was interrupted"
        }
    }

    static func wrapping(_ error: any Error) -> BuildError {
        switch error {
        case let error as BuildError: return error
        case let error as ImageError: return .image(error)
        case let error as SysError: return .system(error)
        default: return .invalid("\(error)")
        }
    }
}

/// Random names for a build's containers and directories.
enum RandomID {
    static func hex(_ length: Int) -> String {
        String(Hex.encode(Files.randomBytes((length + 1) / 2)).prefix(length))
    }
}
