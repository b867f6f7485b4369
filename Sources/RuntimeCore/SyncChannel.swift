#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// Messages between the runtime and the container process it is setting up, over a
/// SOCK_SEQPACKET socket pair (one message per send, descriptors with SCM_RIGHTS).
public enum SyncMessage: Equatable {
    /// Parent to child: id maps are written; here is your pid on the host.
    case configured(hostPid: Int32)
    /// Parent to child: you are in the container's cgroup (sent after `configured`; the
    /// child overlaps its own setup with the slow cgroup v1 migration).
    case cgroupJoined
    /// Parent to child: go on to the next stage.
    case proceed
    /// Child to parent: mounts are ready; run prestart and createRuntime hooks now.
    case runCreateRuntimeHooks
    /// Child to parent: all set up, waiting to be started.
    case ready
    /// Child to parent: setup failed; the text says what and where.
    case failure(String)
    /// Child to parent: the pty master of the container's terminal (descriptor attached).
    case terminalMaster
    /// Child to parent: the seccomp notification listener (descriptor attached).
    case seccompListener
}

/// One end of the sync socket pair.
public struct SyncChannel {
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    /// Creates the pair: (parent end, child end), both close-on-exec.
    public static func makePair() throws(SysError) -> (SyncChannel, SyncChannel) {
        var fds: [Int32] = [-1, -1]
        if socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) != 0 {
            throw SysError("socketpair for the sync channel")
        }
        return (SyncChannel(fd: fds[0]), SyncChannel(fd: fds[1]))
    }

    public func send(_ message: SyncMessage, attaching descriptor: Int32 = -1) throws(SysError) {
        var bytes: [UInt8]
        switch message {
        case .proceed: bytes = [1]
        case .runCreateRuntimeHooks: bytes = [2]
        case .ready: bytes = [3]
        case .failure(let text): bytes = [4] + Array(text.utf8.prefix(8000))
        case .terminalMaster: bytes = [5]
        case .seccompListener: bytes = [6]
        case .configured(let pid): bytes = [7] + Array(String(pid).utf8)
        case .cgroupJoined: bytes = [8]
        }
        if descriptor >= 0 {
            if caisson_send_fd(fd, descriptor, &bytes, bytes.count) != 0 { throw SysError("send on the sync channel") }
            return
        }
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent < 0 { throw SysError("send on the sync channel") }
    }

    /// Receives one message; nil when the other end closed (the process died).
    public func receive() throws(SysError) -> (SyncMessage, Int32)? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        var descriptor: Int32 = -1
        let count = buffer.withUnsafeMutableBytes { caisson_recv_fd(fd, $0.baseAddress, $0.count, &descriptor) }
        if count < 0 { throw SysError("receive on the sync channel") }
        if count == 0 { return nil }
        let message: SyncMessage
        switch buffer[0] {
        case 1: message = .proceed
        case 2: message = .runCreateRuntimeHooks
        case 3: message = .ready
        case 5: message = .terminalMaster
        case 6: message = .seccompListener
        case 7: message = .configured(hostPid: Int32(String(decoding: buffer[1..<count], as: UTF8.self)) ?? 0)
        case 8: message = .cgroupJoined
        default: message = .failure(String(decoding: buffer[1..<count], as: UTF8.self))
        }
        return (message, descriptor)
    }

    public func close() { _ = Glibc.close(fd) }
}
