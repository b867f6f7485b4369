#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import OCISpec

/// Hands a seccomp user-notification descriptor to the agent at linux.seccomp.listenerPath,
/// with the runtime-spec "container process state" document as the message.
enum SeccompListener {
    struct ProcessState: Encodable {
        var ociVersion = Spec.version
        var fds = ["seccompFd"]
        var pid: Int32
        var metadata: String
        var state: HookState
    }

    static func send(fd: Int32, to path: String, metadata: String?, pid: Int32, state: HookState) throws(RuntimeError) {
        let socket = try wrap { () throws(SysError) in 
            try ConsoleSocket.connect(path: path, purpose: "seccomp agent's listener socket (linux.seccomp.listenerPath)")
        }
        defer { close(socket) }
        var message = SpecJSON.encode(ProcessState(pid: pid, metadata: metadata ?? "", state: state))
        if caisson_send_fd(socket, fd, &message, message.count) != 0 {
            throw .system(SysError("send the seccomp listener fd", path: path))
        }
    }
}
