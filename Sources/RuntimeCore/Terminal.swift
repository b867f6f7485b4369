#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// The container's pseudo-terminal: created inside the container's own devpts, the
/// slave becomes the process's stdio and /dev/console, the master goes to whoever
/// drives the terminal (the engine's --console-socket, or `run` itself).
struct ContainerTerminal {
    let master: Int32
    let slave: Int32

    /// Opens a new pty from the container's /dev/pts/ptmx (reached through its rootfs).
    static func open(root: RootedPath, rows: UInt?, columns: UInt?) throws(SysError) -> ContainerTerminal {
        guard let ptmx = try root.open("/dev/pts/ptmx") else {
            throw SysError("open the container's /dev/pts/ptmx (is devpts mounted at /dev/pts?)", errno: ENOENT)
        }
        defer { close(ptmx) }
        let master = Glibc.open(RootedPath.procPath(ptmx), O_RDWR | O_NOCTTY | O_CLOEXEC)
        if master < 0 { throw SysError("open the pty master") }
        if caisson_unlockpt(master) != 0 {
            let error = SysError("unlock the pty")
            close(master)
            throw error
        }
        let slave = caisson_open_pty_peer(master, O_RDWR | O_NOCTTY | O_CLOEXEC)
        if slave < 0 {
            let error = SysError("open the pty slave")
            close(master)
            throw error
        }
        if let rows, let columns, rows > 0, columns > 0 {
            _ = caisson_set_winsize(master, UInt16(clamping: rows), UInt16(clamping: columns))
        }
        return ContainerTerminal(master: master, slave: slave)
    }

    /// Binds the slave onto /dev/console inside the rootfs.
    func bindConsole(root: RootedPath) throws(SysError) {
        let console = try root.openOrCreate("/dev/console", as: .file)
        defer { close(console) }
        if mount(RootedPath.procPath(slave), RootedPath.procPath(console), "", MountFlag.bind, nil) != 0 {
            throw SysError("bind the terminal onto /dev/console")
        }
    }

    /// Makes the slave the controlling terminal and the process's stdio.
    static func attach(slave: Int32) throws(SysError) {
        if setsid() < 0 { throw SysError("setsid") }
        if caisson_set_controlling_tty(slave) != 0 { throw SysError("make the pty the controlling terminal") }
        for target: Int32 in 0...2 where dup2(slave, target) < 0 {
            throw SysError("dup2 the pty onto fd \(target)")
        }
    }
}

/// Sends a pty master to the engine's --console-socket, as runc does (the payload is
/// the terminal's name, the descriptor rides along with SCM_RIGHTS).
enum ConsoleSocket {
    /// Connects to a unix socket; `purpose` names it in errors ("console socket",
    /// "seccomp agent's listener socket").
    static func connect(path: String, purpose: String = "console socket") throws(SysError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SysError("socket for the \(purpose)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw SysError("\(purpose) path is too long", path: path, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let error = SysError("connect to the \(purpose)", path: path)
            close(fd)
            throw error
        }
        return fd
    }

    static func send(master: Int32, over socket: Int32) throws(SysError) {
        var name = Array("/dev/ptmx".utf8)
        if caisson_send_fd(socket, master, &name, name.count) != 0 {
            throw SysError("send the terminal to the console socket")
        }
    }
}
