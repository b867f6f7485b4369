import CaissonSys
import Engine
import GRPCCore
import Images

/// What a CRI call can fail with; each case maps to the gRPC status the kubelet expects
/// (NotFound for unknown ids, which it treats as "already gone", InvalidArgument for bad
/// requests, DeadlineExceeded for an exec that timed out).
public enum CRIError: Error, CustomStringConvertible, Sendable {
    case notFound(String)
    case invalid(String)
    case alreadyExists(String)
    case failedPrecondition(String)
    case deadlineExceeded(String)
    case unimplemented(String)
    case failed(String)

    public var description: String {
        switch self {
        case .notFound(let m), .invalid(let m), .alreadyExists(let m), .failedPrecondition(let m),
             .deadlineExceeded(let m), .unimplemented(let m), .failed(let m):
            return m
        }
    }

    var rpcError: RPCError {
        switch self {
        case .notFound(let m): return RPCError(code: .notFound, message: m)
        case .invalid(let m): return RPCError(code: .invalidArgument, message: m)
        case .alreadyExists(let m): return RPCError(code: .alreadyExists, message: m)
        case .failedPrecondition(let m): return RPCError(code: .failedPrecondition, message: m)
        case .deadlineExceeded(let m): return RPCError(code: .deadlineExceeded, message: m)
        case .unimplemented(let m): return RPCError(code: .unimplemented, message: m)
        case .failed(let m): return RPCError(code: .unknown, message: m)
        }
    }

    static func wrap(_ error: any Error, _ context: String) -> CRIError {
        if let error = error as? CRIError { return error }
        if let error = error as? ImageError {
            if case .notFound = error { return .notFound("\(context): \(error)") }
            return .failed("\(context): \(error)")
        }
        if let error = error as? EngineError { return .failed("\(context): \(error)") }
        return .failed("\(context): \(error)")
    }
}
