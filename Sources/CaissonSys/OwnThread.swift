#if canImport(Glibc)
import Glibc
#endif

/// Blocking work (a RUN step waiting on its container, for seconds or hours; a relay
/// between an attached API client and a container) on a thread of its own, awaited
/// without holding one of Swift's cooperative threads: those are as many as the cores,
/// so builds' stages or attached clients would otherwise wait for each other.
public enum OwnThread {
    private final class Job: Sendable {
        let work: @Sendable () -> Void
        init(_ work: @escaping @Sendable () -> Void) { self.work = work }
    }

    public static func run<Value: Sendable, Failure: Error>(
        _ work: @escaping @Sendable () throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            let job = Job {
                do throws(Failure) { continuation.resume(returning: .success(try work())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            var thread = pthread_t()
            let argument = Unmanaged.passRetained(job).toOpaque()
            let started = pthread_create(&thread, nil, { argument in
                Unmanaged<Job>.fromOpaque(argument!).takeRetainedValue().work()
                return nil
            }, argument)
            if started == 0 {
                pthread_detach(thread)
            } else {
                // No thread to be had: do it here.
                Unmanaged<Job>.fromOpaque(argument).takeRetainedValue().work()
            }
        }
        return try result.get()
    }
}
