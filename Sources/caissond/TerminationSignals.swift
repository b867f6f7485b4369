import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT as Dispatch sources (the daemon is multithreaded: no handlers
/// that run Swift code asynchronously).
enum TerminationSignals {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func wait(_ body: @escaping @Sendable () -> Void) {
        let once = Once(body)
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { once.run() }
            source.resume()
            sources.append(source)
        }
    }

    private final class Once: @unchecked Sendable {
        private var done = false
        private let lock = NSLockLike()
        private let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        func run() {
            let first = lock.withLock { () -> Bool in
                if done { return false }
                done = true
                return true
            }
            if first { body() }
        }
    }
}

/// A pthread mutex (Foundation's NSLock without Foundation).
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
