/// Errors the command line reports itself (bad flag values and the like), as opposed to
/// failures of the operation.
enum CLIError: Error, CustomStringConvertible {
    case usage(String)
    case failed(String)

    var description: String {
        switch self {
        case .usage(let text), .failed(let text): return text
        }
    }
}
