#if canImport(Glibc)
import Glibc
#endif
import AttachProtocol
import CaissonJSON
import CaissonShim
import CaissonSys
import Engine
import CRIProto
import SPDY

/// One exec or attach over SPDY (Kubernetes' remote-command protocol): the client opens
/// an error stream and, as asked, stdin, stdout, stderr and resize streams; output goes
/// out on stdout/stderr, the end status (v4: a metav1.Status with the exit code) on the
/// error stream, then every stream is closed.
final class RemoteCommandSession {
    let manager: PodManager
    let framer: SPDYFramer
    let protocolVersion: String
    private var streams: [String: UInt32] = [:]
    private var streamTypes: [UInt32: String] = [:]
    /// stdin bytes that came before the process was ready.
    private var pendingStdin: [UInt8] = []
    private var stdinClosed = false
    private var resizeBuffer: [UInt8] = []
    private var clientGone = false

    init(manager: PodManager, framer: SPDYFramer, protocolVersion: String) {
        self.manager = manager
        self.framer = framer
        self.protocolVersion = protocolVersion
    }

    // MARK: Streams

    /// Reads frames until the expected streams are open (30 s at most).
    private func awaitStreams(_ expected: Set<String>) -> Bool {
        let deadline = Clock.monotonicMilliseconds() + 30_000
        while !expected.isSubset(of: Set(streams.keys)) {
            if Clock.monotonicMilliseconds() > deadline { return false }
            guard pump(timeout: 1000, onStdin: { self.pendingStdin += $0 }, onStdinEnd: { self.stdinClosed = true },
                       onResize: { _, _ in }) else { return false }
        }
        return true
    }

    /// Waits up to `timeout` ms for the client and handles what it sent; false when it is gone.
    @discardableResult
    private func pump(timeout: Int32, onStdin: ([UInt8]) -> Void, onStdinEnd: () -> Void,
                      onResize: (UInt16, UInt16) -> Void) -> Bool {
        if !framer.hasBufferedFrame {
            var fds = [pollfd(fd: framer.fd, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 1, timeout)
            if ready < 0 { return errno == EINTR }
            if ready == 0 { return true }
            if !framer.fill() { clientGone = true; return false }
        }
        return handleFrames(onStdin: onStdin, onStdinEnd: onStdinEnd, onResize: onResize)
    }

    private func handleFrames(onStdin: ([UInt8]) -> Void, onStdinEnd: () -> Void, onResize: (UInt16, UInt16) -> Void) -> Bool {
        while true {
            let frame: SPDYFrame?
            do { frame = try framer.next() } catch { clientGone = true; return false }
            guard let frame else { return true }
            switch frame {
            case .synStream(let id, let headers, let fin):
                let type = headers["streamtype"] ?? ""
                streams[type] = id
                streamTypes[id] = type
                do { try framer.writeSynReply(streamID: id) } catch { clientGone = true; return false }
                if fin && type == "stdin" { onStdinEnd() }
            case .data(let id, let bytes, let fin):
                switch streamTypes[id] {
                case "stdin":
                    if !bytes.isEmpty { onStdin(bytes) }
                    if fin { onStdinEnd() }
                case "resize":
                    resizeBuffer += bytes
                    while let newline = resizeBuffer.firstIndex(of: 0x0a) {
                        let line = Array(resizeBuffer[..<newline])
                        resizeBuffer.removeSubrange(...newline)
                        if let (width, height) = RemoteCommandSession.terminalSize(line) { onResize(height, width) }
                    }
                    if let (width, height) = RemoteCommandSession.terminalSize(resizeBuffer) {
                        resizeBuffer = []
                        onResize(height, width)
                    }
                default:
                    break
                }
            case .ping(let id):
                try? framer.writePing(id: id)
            case .goAway:
                clientGone = true
                return false
            case .rstStream(let id, _):
                if streamTypes[id] == "stdin" { onStdinEnd() }
            case .synReply, .ignored:
                break
            }
        }
    }

    /// {"Width":80,"Height":24} -> (80, 24).
    static func terminalSize(_ bytes: [UInt8]) -> (UInt16, UInt16)? {
        let text = String(decoding: bytes, as: UTF8.self)
        func number(after key: String) -> UInt16? {
            guard let range = text.range(of: "\"\(key)\"") else { return nil }
            let rest = text[range.upperBound...].drop { $0 == ":" || $0 == " " }
            return UInt16(rest.prefix { $0.isNumber })
        }
        guard let width = number(after: "Width"), let height = number(after: "Height") else { return nil }
        return (width, height)
    }

    private func send(_ type: String, _ bytes: [UInt8]) {
        guard let id = streams[type], !bytes.isEmpty, !clientGone else { return }
        do { try framer.writeData(streamID: id, bytes: bytes) } catch { clientGone = true }
    }

    /// Closes the output streams, reports the status, and waits (5 s) for the client to hang up.
    private func finish(exitCode: Int32?, message: String? = nil) {
        guard !clientGone else { return }
        for type in ["stdout", "stderr"] {
            if let id = streams[type] { try? framer.writeData(streamID: id, bytes: [], fin: true) }
        }
        if let id = streams["error"] {
            let status = RemoteCommandSession.status(exitCode: exitCode, message: message, version: protocolVersion)
            try? framer.writeData(streamID: id, bytes: Array(status.utf8), fin: true)
        }
        for type in ["stdin", "resize"] {
            if let id = streams[type] { try? framer.writeData(streamID: id, bytes: [], fin: true) }
        }
        let deadline = Clock.monotonicMilliseconds() + 5000
        while Clock.monotonicMilliseconds() < deadline {
            if !pump(timeout: 200, onStdin: { _ in }, onStdinEnd: {}, onResize: { _, _ in }) { break }
        }
    }

    /// The error stream's message: v4 (and v3) a metav1.Status, older versions plain text.
    static func status(exitCode: Int32?, message: String?, version: String) -> String {
        let versioned = version.hasPrefix("v4.")
        if let message {
            if versioned {
                return "{\"metadata\":{},\"status\":\"Failure\",\"message\":\(String(decoding: JSONEncoding.serialize(.string(message)), as: UTF8.self)),\"reason\":\"InternalError\"}"
            }
            return message
        }
        guard let code = exitCode, code != 0 else {
            return versioned ? "{\"metadata\":{},\"status\":\"Success\"}" : ""
        }
        if versioned {
            return "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero exit code: error executing command, exit status \(code)\","
                + "\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"\(code)\"}]}}"
        }
        return "command terminated with non-zero exit code: exit status \(code)"
    }

    private func expectedStreams(stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool) -> Set<String> {
        var expected: Set<String> = ["error"]
        if stdin { expected.insert("stdin") }
        if stdout { expected.insert("stdout") }
        if stderr && !tty { expected.insert("stderr") }
        if tty && protocolVersion != "channel.k8s.io" && protocolVersion != "v2.channel.k8s.io" { expected.insert("resize") }
        return expected
    }

    // MARK: Exec

    func runExec(_ request: Runtime_V1_ExecRequest) {
        guard awaitStreams(expectedStreams(stdin: request.stdin, stdout: request.stdout, stderr: request.stderr, tty: request.tty)) else {
            return
        }
        let process: ExecProcess
        do {
            process = try ExecProcess.start(manager: manager, request: request)
        } catch {
            finish(exitCode: nil, message: error.description)
            return
        }
        defer { process.closeAll() }
        if !pendingStdin.isEmpty { process.writeStdin(pendingStdin) }
        if stdinClosed { process.closeStdin() }
        var exitCode: Int32?
        var drainDeadline: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !clientGone {
            if exitCode == nil, let code = process.exitStatus() {
                exitCode = code
                drainDeadline = Clock.monotonicMilliseconds() + 500
            }
            if exitCode != nil && (process.outputs.isEmpty || Clock.monotonicMilliseconds() > drainDeadline) { break }
            var fds = [pollfd(fd: framer.fd, events: Int16(POLLIN), revents: 0)]
            for (fd, _) in process.outputs { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let ready = framer.hasBufferedFrame ? 1 : poll(&fds, nfds_t(fds.count), 50)
            if ready < 0 && errno != EINTR { break }
            if framer.hasBufferedFrame || fds[0].revents != 0 {
                if !framer.hasBufferedFrame && !framer.fill() { clientGone = true; break }
                _ = handleFrames(onStdin: { process.writeStdin($0) }, onStdinEnd: { process.closeStdin() },
                                 onResize: { rows, columns in process.resize(rows: rows, columns: columns) })
            }
            for (index, (fd, type)) in process.outputs.enumerated() where index + 1 < fds.count && fds[index + 1].revents != 0 {
                let n = read(fd, &buffer, buffer.count)
                if n > 0 {
                    send(type, Array(buffer[0..<n]))
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    process.closeOutput(fd)
                }
            }
        }
        if clientGone {
            process.kill()
            return
        }
        finish(exitCode: exitCode ?? process.waitExit())
    }

    // MARK: Attach

    func runAttach(_ request: Runtime_V1_AttachRequest) {
        guard awaitStreams(expectedStreams(stdin: request.stdin, stdout: request.stdout, stderr: request.stderr, tty: request.tty)) else {
            return
        }
        let record: PodContainerRecord
        let socket: Int32
        do {
            record = try manager.store.container(request.containerID).record
            socket = try UnixSocket.connect(manager.store.containerDirectory(record.id) + "/attach.sock")
        } catch {
            finish(exitCode: nil, message: "cannot attach to container \(request.containerID): \(error)")
            return
        }
        defer { close(socket) }
        func sendFrame(_ frame: AttachFrame) { try? Files.writeAll(fd: socket, bytes: frame.encoded()) }
        sendFrame(.hello(wantsStdin: request.stdin, removesOnExit: false))
        var detach = false
        let stdinEnd = {
            if record.stdinOnce { sendFrame(.stdinClosed) } else { detach = true }
        }
        if !pendingStdin.isEmpty { sendFrame(.stdin(pendingStdin)) }
        if stdinClosed { stdinEnd() }
        var reader = AttachFrameReader()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var exitCode: Int32?
        while !clientGone && !detach && exitCode == nil {
            var fds = [pollfd(fd: framer.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
            let ready = framer.hasBufferedFrame ? 1 : poll(&fds, 2, 1000)
            if ready < 0 && errno != EINTR { break }
            if framer.hasBufferedFrame || fds[0].revents != 0 {
                if !framer.hasBufferedFrame && !framer.fill() { clientGone = true; break }
                _ = handleFrames(onStdin: { sendFrame(.stdin($0)) }, onStdinEnd: stdinEnd,
                                 onResize: { rows, columns in sendFrame(.resize(rows: rows, columns: columns)) })
            }
            if fds[1].revents != 0 {
                let n = read(socket, &buffer, buffer.count)
                if n <= 0 { exitCode = exitCode ?? 0; break }
                reader.feed(buffer[0..<n])
                while let frame = try? reader.next() {
                    switch frame {
                    case .stdout(let data): if request.stdout { send("stdout", data) }
                    case .stderr(let data): if request.stderr { send(request.tty ? "stdout" : "stderr", data) }
                    case .exit(let code): exitCode = code
                    default: break
                    }
                }
            }
        }
        finish(exitCode: 0)
    }
}
