#if canImport(Glibc)
import Glibc
#endif
import AttachProtocol
import CaissonSys
import Synchronization

/// Clients attached to a container that is not running (docker's `run` attaches before
/// it starts the container, `start -a` too): each waits here until the API starts the
/// container, which connects them to the monitor's attach socket after the monitor has
/// created the container and before it runs, so no output is missed.
final class PendingAttaches: Sendable {
    struct Waiter: Sendable {
        let hello: AttachFrame
        /// Gets the connected socket, or -1 when it could not connect.
        let resume: @Sendable (Int32) -> Void
        /// False once the client has gone.
        let isLive: @Sendable () -> Bool
    }

    private let waiting = Mutex<[String: [Waiter]]>([:])

    func add(_ id: String, _ waiter: Waiter) {
        waiting.withLock { $0[id, default: []].append(waiter) }
    }

    /// Connects every client waiting for container `id` to its monitor.
    func connect(_ id: String, socket: String) {
        let waiters = waiting.withLock { $0.removeValue(forKey: id) } ?? []
        for waiter in waiters {
            guard waiter.isLive() else { waiter.resume(-1); continue }
            guard let fd = try? UnixSocket.connect(socket) else { waiter.resume(-1); continue }
            do { try Files.writeAll(fd: fd, bytes: waiter.hello.encoded()) } catch {
                close(fd)
                waiter.resume(-1)
                continue
            }
            waiter.resume(fd)
        }
    }

    /// Gives up on the clients waiting for a container that was removed, or whose start
    /// failed (dockerd closes their streams then too).
    func cancel(_ id: String) {
        for waiter in waiting.withLock({ $0.removeValue(forKey: id) }) ?? [] { waiter.resume(-1) }
    }

    /// Gives up on every waiting client: the server is stopping, and their handlers must
    /// end for it to.
    func cancelAll() {
        for waiter in waiting.withLock({ table in defer { table = [:] }; return table.values.flatMap { $0 } }) { waiter.resume(-1) }
    }
}
