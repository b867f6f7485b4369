import Dispatch

/// Runs blocking work (process spawns, file systems, waits) on a Dispatch queue so the
/// gRPC server's threads and Swift's cooperative pool stay free. Processes are started
/// with posix_spawn only (no fork from this multithreaded process).
enum Blocking {
    private static let queue = DispatchQueue(label: "caissond.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
            }
        }
    }
}
