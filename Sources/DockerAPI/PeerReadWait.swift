#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Waits, after the answer to an attach or exec request, until the client has read it,
/// before any of the stream is written.
///
/// docker-py reads the response head through a buffered file, then reads the stream from
/// the raw socket under it: bytes that arrived together with the head are left in that
/// buffer and lost to it (an `exec_run` then returns `b''`). dockerd is saved by timing
/// (it starts the command only after answering); here output may already be waiting, so
/// the stream is held back until the kernel says the head has been consumed: on a unix
/// socket, bytes the peer has not read yet are still charged to the sender
/// (`SO_MEMINFO`'s write allocation). Bounded, so a client that never reads costs no more
/// than a short delay.
enum PeerReadWait {
    static let bound: Duration = .seconds(2)

    static func untilRead(_ channel: Channel) async {
        guard let provider = channel as? SocketOptionProvider else { return }
        let clock = ContinuousClock()
        let deadline = clock.now + bound
        var pause: Duration = .microseconds(200)
        while clock.now < deadline {
            guard let unread = try? await unreadBytes(provider), unread > 0 else { return }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(10))
        }
    }

    /// The socket's `SK_MEMINFO_WMEM_ALLOC`: bytes written and not yet consumed.
    private static func unreadBytes(_ provider: SocketOptionProvider) async throws -> UInt32 {
        let info: MemInfo = try await provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_MEMINFO)).get()
        return info.values.2
    }

    /// `SK_MEMINFO_VARS` (9 on current kernels) 32-bit counters, with room to spare; the
    /// kernel fills what it has.
    private struct MemInfo: Sendable {
        var values: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    }
}
