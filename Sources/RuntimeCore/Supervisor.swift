#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// Waits for a foreground container process (`run`, `exec` without -d): forwards the
/// signals the runtime receives to it, relays its terminal when the runtime holds the
/// pty master, and returns its exit status (128+N if killed by signal N).
///
/// Single-threaded: signals are taken from a signalfd inside one poll loop.
struct Supervisor {
    let pid: Int32
    let terminalMaster: Int32

    func wait() throws(SysError) -> Int32 {
        var all = sigset_t()
        sigfillset(&all)
        var previous = sigset_t()
        sigprocmask(SIG_BLOCK, &all, &previous)
        defer { sigprocmask(SIG_SETMASK, &previous, nil) }
        let signals = caisson_signalfd_all()
        if signals < 0 { throw SysError("signalfd") }
        defer { close(signals) }

        var savedTerminal = termios()
        let stdinIsTerminal = terminalMaster >= 0 && isatty(0) == 1
        if stdinIsTerminal {
            tcgetattr(0, &savedTerminal)
            var raw = savedTerminal
            cfmakeraw(&raw)
            tcsetattr(0, TCSANOW, &raw)
            resize()
        }
        defer { if stdinIsTerminal { tcsetattr(0, TCSANOW, &savedTerminal) } }

        var stdinOpen = terminalMaster >= 0
        var buffer = [UInt8](repeating: 0, count: 32768)
        // The process may have exited before SIGCHLD was blocked (and so was discarded).
        if let status = reap() {
            drainTerminal(&buffer)
            return status
        }
        while true {
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            if terminalMaster >= 0 {
                fds.append(pollfd(fd: terminalMaster, events: Int16(POLLIN), revents: 0))
                if stdinOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw SysError("poll")
            }
            if fds.count > 1 && fds[1].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(terminalMaster, $0.baseAddress, $0.count) }
                if n > 0 { try? Files.writeAll(fd: 1, bytes: Array(buffer[0..<n])) }
            }
            if fds.count > 2 && fds[2].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n > 0 { try? Files.writeAll(fd: terminalMaster, bytes: Array(buffer[0..<n])) }
                else { stdinOpen = false }
            }
            if fds[0].revents != 0 {
                let number = caisson_signalfd_read(signals)
                guard number > 0 else { continue }
                switch number {
                case SIGCHLD:
                    if let status = reap() {
                        drainTerminal(&buffer)
                        return status
                    }
                case SIGWINCH:
                    resize()
                case SIGPIPE, SIGURG:
                    continue
                default:
                    kill(pid, number)
                }
            }
        }
    }

    /// Reaps exited children; returns the container process's status once it is gone.
    private func reap() -> Int32? {
        var result: Int32?
        while true {
            var status: Int32 = 0
            let reaped = waitpid(-1, &status, WNOHANG)
            if reaped <= 0 { break }
            if reaped == pid { result = Processes.exitStatus(fromWaitStatus: status) }
        }
        return result
    }

    private func resize() {
        guard terminalMaster >= 0 else { return }
        var rows: UInt16 = 0, columns: UInt16 = 0
        if caisson_get_winsize(0, &rows, &columns) == 0 {
            _ = caisson_set_winsize(terminalMaster, rows, columns)
        }
    }

    private func drainTerminal(_ buffer: inout [UInt8]) {
        guard terminalMaster >= 0 else { return }
        let flags = fcntl(terminalMaster, F_GETFL)
        _ = caisson_fcntl_int(terminalMaster, F_SETFL, flags | O_NONBLOCK)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(terminalMaster, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            try? Files.writeAll(fd: 1, bytes: Array(buffer[0..<n]))
        }
    }
}
