#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// The descriptors the runtime opens for a child it is about to clone (namespaces to
/// join, the console socket, the trampoline, ...). Each is moved above the
/// --preserve-fds range so it cannot collide with a descriptor passed to the
/// container. The owner calls `closeAll()` (in a `defer`) once the child is launched;
/// not in deinit, since Swift may release an object right after its last use.
final class LaunchDescriptors {
    private let minimum: Int32
    private var opened: [Int32] = []

    init(preserveFDs: Int) {
        minimum = Int32(3 + preserveFDs)
    }

    func closeAll() {
        for fd in opened { close(fd) }
        opened.removeAll()
    }

    /// Takes ownership of `fd`, returning its (possibly new) number.
    func keep(_ fd: Int32) -> Int32 {
        let moved = Launcher.moveAbove(fd, minimum: minimum)
        opened.append(moved)
        return moved
    }

    /// Opens a namespace file to join.
    func openNamespace(_ kind: String, path: String) throws(RuntimeError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .system(SysError("open \(kind) namespace", path: path)) }
        return keep(fd)
    }

    /// Where the pty master goes: the engine's console socket, or the runtime itself.
    func terminalDestination(wanted: Bool, consoleSocket: String?) throws(RuntimeError) -> ChildPlan.TerminalDestination {
        guard wanted else { return .none }
        guard let consoleSocket else { return .runtime }
        let fd = try wrap { () throws(SysError) in try ConsoleSocket.connect(path: consoleSocket) }
        return .consoleSocket(fd: keep(fd))
    }

    /// The sealed exec trampoline (see ExecTrampoline).
    func trampoline() throws(RuntimeError) -> Int32 {
        keep(try wrap { () throws(SysError) in try ExecTrampoline.makeSealedFile() })
    }
}
