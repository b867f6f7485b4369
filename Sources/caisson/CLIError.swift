/// Errors the command line reports itself (bad flag values and the like), as opposed to
/// failures of the operation.
enum CLIError: Error, CustomStringConvertible {
    case usage(String)
    case failed(String)
    /// A failure with its own exit status (130 for a build stopped by Ctrl-C).
    case failedWithStatus(String, Int32)

    var description: String {
        switch self {
        case .usage(let text), .failed(let text), .failedWithStatus(let text, _): return text
        }
    }

    var exitCode: Int32 {
        switch self {
        case .usage: return 125
        case .failed: return 1
        case .failedWithStatus(_, let status): return status
        }
    }
}
