import Dispatch
import Synchronization

/// Work on another thread whose result is waited for later: a container's CNI ADD
/// runs beside the runtime's create (it takes tens of milliseconds of plugin runs).
public final class BackgroundJob<Value: Sendable, Failure: Error>: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let outcome = Mutex<Result<Value, Failure>?>(nil)

    public init(_ work: @escaping @Sendable () throws(Failure) -> Value) {
        DispatchQueue.global().async { [self] in
            let result: Result<Value, Failure>
            do throws(Failure) { result = .success(try work()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
    }

    /// The work's result (waiting for it); may be called more than once.
    public func wait() throws(Failure) -> Value {
        done.wait()
        done.signal()
        switch outcome.withLock({ $0 })! {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }
}
