#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import OCISpec

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

    /// In a user namespace the container's root may not reach a bind mount's source (a
    /// directory under a 0700 parent, say). As runc does, the runtime reaches it with its
    /// own privileges: here as a detached copy of the mount (open_tree), which the child
    /// attaches in its own mount namespace (move_mount). Where that fails (an old kernel, a
    /// missing source) the child mounts by path and its error names the source.
    /// Keys: mount index.
    func bindSources(of mounts: [Mount], bundle: String) -> [Int: Int32] {
        var sources: [Int: Int32] = [:]
        for (index, entry) in mounts.enumerated() {
            let options = entry.options ?? []
            guard entry.type == "bind" || options.contains(where: { $0 == "bind" || $0 == "rbind" }),
                  let source = entry.source, !source.isEmpty else { continue }
            let path = source.hasPrefix("/") ? source : Paths.join(bundle, source)
            let recursive: UInt32 = options.contains("rbind") ? 0x8000 /* AT_RECURSIVE */ : 0
            let flags = 1 /* OPEN_TREE_CLONE */ | UInt32(O_CLOEXEC) | recursive
            let fd = caisson_open_tree(AT_FDCWD, path, flags)
            if fd >= 0 { sources[index] = keep(fd) }
        }
        return sources
    }

    /// The sealed exec trampoline (see ExecTrampoline).
    func trampoline() throws(RuntimeError) -> Int32 {
        keep(try wrap { () throws(SysError) in try ExecTrampoline.makeSealedFile() })
    }
}
