#if canImport(Glibc)
import Glibc
#endif
import AttachProtocol
import CaissonSys
import Foundation
import Synchronization

/// The `caisson` side of attaching to a container's monitor: stdout and stderr frames to
/// our stdout and stderr, our stdin (if asked) to the container, the terminal in raw
/// mode with its size passed on, until the monitor sends the exit status.
final class AttachClient: @unchecked Sendable {
    private let fd: Int32
    private let tty: Bool
    private let sendStdin: Bool
    private var savedTerminal: termios?

    init(socketPath: String, tty: Bool, sendStdin: Bool, removesOnExit: Bool = false) throws {
        self.tty = tty
        self.sendStdin = sendStdin
        do {
            fd = try UnixSocket.connect(socketPath)
        } catch {
            throw CLIError.failed("cannot attach to the container: \(error)")
        }
        send(.hello(wantsStdin: sendStdin, removesOnExit: removesOnExit))
    }

    private func send(_ frame: AttachFrame) {
        let bytes = frame.encoded()
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }

    /// Relays until the exit frame; returns the container's exit status (nil if the
    /// monitor went away without one).
    func run() -> Int32? {
        if tty, isatty(0) == 1 {
            var current = termios()
            tcgetattr(0, &current)
            savedTerminal = current
            var raw = current
            cfmakeraw(&raw)
            tcsetattr(0, TCSANOW, &raw)
            sendWindowSize()
            let watcher = Thread { [self] in
                var last: (UInt16, UInt16) = (0, 0)
                while true {
                    usleep(200_000)
                    var size = winsize()
                    if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, (size.ws_row, size.ws_col) != last {
                        last = (size.ws_row, size.ws_col)
                        send(.resize(rows: size.ws_row, columns: size.ws_col))
                    }
                }
            }
            watcher.start()
        }
        if sendStdin {
            let reader = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 32768)
                while true {
                    let n = read(0, &buffer, buffer.count)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { send(.stdinClosed); return }
                    send(.stdin(Array(buffer[0..<n])))
                }
            }
            reader.start()
        }
        defer {
            if var saved = savedTerminal { tcsetattr(0, TCSANOW, &saved) }
        }
        var frames = AttachFrameReader()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            frames.feed(buffer[0..<n])
            while let frame = try? frames.next() {
                switch frame {
                case .stdout(let data): AttachClient.write(1, data)
                case .stderr(let data): AttachClient.write(2, data)
                case .exit(let code): return code
                default: break
                }
            }
        }
    }

    /// Hangs up (the monitor takes that, after the exit status, as "done").
    func close() {
        Glibc.close(fd)
    }

    private func sendWindowSize() {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0 { send(.resize(rows: size.ws_row, columns: size.ws_col)) }
    }

    static func write(_ fd: Int32, _ data: [UInt8]) {
        try? Files.writeAll(fd: fd, bytes: data)
    }
}
