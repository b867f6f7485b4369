#if canImport(Glibc)
import Glibc
#endif
import AttachProtocol
import CaissonShim
import CaissonSys
import Engine
import NIOHTTP1
import Synchronization

/// `POST /containers/{id}/attach` (the connection hijacked: the container's output from
/// its monitor to the client, framed unless it has a terminal; the client's input to the
/// container; detach keys) and `POST /containers/{id}/resize`.
extension DockerAPI {
    func addAttachRoutes(_ router: inout Router) {
        router.add(.POST, "/containers/{id}/attach") { [self] request in
            let id = request.parameters["id"] ?? ""
            let record = try await blocking { try self.engine.find(id) }
            let options = AttachOptions(stdin: request.bool("stdin"), stdout: request.bool("stdout"),
                                        stderr: request.bool("stderr"), logs: request.bool("logs"),
                                        stream: request.bool("stream"), tty: record.config.tty,
                                        detachKeys: try request.string("detachKeys").flatMap {
                                            $0.isEmpty ? nil : try DetachKeys(parsing: $0)
                                        } ?? .standard)
            // dockerd's `attach` event, for every attach (docker run's comes before its start).
            try await blocking { self.engine.recordContainerEvent("attach", record) }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: StreamFraming.contentType(tty: record.config.tty, version: request.version))
            return APIResponse(status: .ok, headers: headers, body: .hijack { [self] stream in
                try await attach(record, options, stream)
            })
        }
        router.add(.POST, "/containers/{id}/resize") { [self] request in
            let id = request.parameters["id"] ?? ""
            let (rows, columns) = try TerminalSize.from(request)
            try await blocking {
                let record = try self.engine.find(id)
                guard self.engine.state(of: record).isRunning else { throw EngineError.notRunning(record.name) }
                guard record.config.tty else { return }
                let fd = try UnixSocket.connect(self.engine.directory(of: record.id) + "/attach.sock")
                defer { close(fd) }
                try Files.writeAll(fd: fd, bytes: AttachFrame.hello(wantsStdin: false, removesOnExit: false).encoded()
                                   + AttachFrame.resize(rows: rows, columns: columns).encoded())
            }
            return APIResponse(status: .ok)
        }
    }

    /// Starts a container, connecting the clients attached while it was not running.
    func startContainer(_ id: String) throws {
        let pending: PendingStart
        do { pending = try engine.beginStart(id) } catch {
            if let record = try? engine.find(id) { attaches.cancel(record.id) }
            throw error
        }
        attaches.connect(pending.record.id, socket: pending.attachSocket)
        try engine.finishStart(pending)
    }

    func attach(_ record: ContainerRecord, _ options: AttachOptions, _ stream: HijackedStream) async throws {
        if options.logs {
            let entries = try await blocking { () -> [LogEntry] in
                var cursor = self.engine.logCursor(of: record)
                return cursor.readAll()
            }
            for entry in entries where entry.stream == .stdout ? options.stdout : options.stderr {
                try await stream.write(StreamFraming.output(entry.stream == .stdout ? .stdout : .stderr, Array(entry.text.utf8),
                                                            tty: options.tty))
            }
        }
        guard options.stream else { return }
        // A client of an --rm container removes it when it exits (as a foreground `caisson
        // run --rm` does): quicker than the monitor starting `caisson rm`, which it then skips.
        let hello = AttachFrame.hello(wantsStdin: options.stdin && record.config.interactive,
                                      removesOnExit: record.config.autoRemove)
        let monitor: Int32 = await withCheckedContinuation { continuation in
            attaches.add(record.id, PendingAttaches.Waiter(hello: hello, resume: { continuation.resume(returning: $0) },
                                                            isLive: { stream.isActive }))
            // Registered first, then looked at: a start in between connects it either way.
            let running = engine.state(of: record).isRunning
            if running { attaches.connect(record.id, socket: engine.directory(of: record.id) + "/attach.sock") }
        }
        guard monitor >= 0 else { return }
        defer { close(monitor) }
        let relay = MonitorRelay(monitor: monitor, stream: stream, options: options)
        let exited = ExitSeen()
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                let ended = await relay.relayOutput()
                if ended == .exited { exited.set() }
                return true
            }
            if options.stdin && record.config.interactive {
                group.addTask { [self] in await relay.relayInput(stdinOnce: record.config.stdinOnce ?? false, pool: self) }
            }
            for await ended in group where ended { break }
            if record.config.autoRemove, exited.value {
                _ = try? await blocking { try self.engine.removeAfterExit(record.id) }
            }
            // Detached or done: the other direction stops (the thread sees end of file).
            Glibc.shutdown(monitor, Int32(SHUT_RDWR))
            stream.close()
            group.cancelAll()
        }
    }
}

/// Whether the relay saw the container's exit (set from the relay's task).
final class ExitSeen: Sendable {
    private let seen = Mutex(false)
    func set() { seen.withLock { $0 = true } }
    var value: Bool { seen.withLock { $0 } }
}

/// What an attach request asked for.
struct AttachOptions: Sendable {
    var stdin: Bool
    var stdout: Bool
    var stderr: Bool
    var logs: Bool
    var stream: Bool
    var tty: Bool
    var detachKeys: DetachKeys
}

/// Between an attached client and a container's monitor (the `AttachProtocol` frames).
struct MonitorRelay: Sendable {
    let monitor: Int32
    let stream: HijackedStream
    let options: AttachOptions

    enum End: Sendable { case exited, gone }

    /// The monitor's output frames to the client, on a thread of its own, until the
    /// container exits (`exited`), the monitor goes, or the client does.
    func relayOutput() async -> End {
        await OwnThread.run { () -> End in
            var reader = AttachFrameReader()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                var fds = [pollfd(fd: monitor, events: Int16(POLLIN), revents: 0)]
                let ready = poll(&fds, 1, 1000)
                if ready < 0 && errno != EINTR { return .gone }
                if ready <= 0 {
                    if !stream.isActive { return .gone }
                    continue
                }
                let n = read(monitor, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return .gone }
                reader.feed(buffer[0..<n])
                while true {
                    let frame: AttachFrame?
                    do { frame = try reader.next() } catch { return .gone }
                    guard let frame else { break }
                    do {
                        switch frame {
                        case .stdout(let data) where options.stdout:
                            try stream.writeBlocking(StreamFraming.output(.stdout, data, tty: options.tty))
                        case .stderr(let data) where options.stderr:
                            try stream.writeBlocking(StreamFraming.output(.stderr, data, tty: options.tty))
                        case .exit:
                            return .exited
                        default:
                            break
                        }
                    } catch {
                        return .gone
                    }
                }
            }
        }
    }

    /// The client's bytes to the container's stdin; true when the client typed the
    /// detach keys, false at the end of its input (the output goes on).
    func relayInput(stdinOnce: Bool, pool: DockerAPI) async -> Bool {
        var matcher = DetachKeys.Matcher(options.detachKeys)
        while let bytes = try? await stream.read() {
            let (forward, detach) = matcher.feed(bytes)
            if !forward.isEmpty {
                let frame = AttachFrame.stdin(forward).encoded()
                guard (try? await pool.blocking { try Files.writeAll(fd: monitor, bytes: frame) }) != nil else { return false }
            }
            if detach { return true }
        }
        if stdinOnce {
            _ = try? await pool.blocking { try Files.writeAll(fd: monitor, bytes: AttachFrame.stdinClosed.encoded()) }
        }
        return false
    }
}

/// `h` and `w` of a resize request.
enum TerminalSize {
    static func from(_ request: APIRequest) throws(DockerAPIError) -> (rows: UInt16, columns: UInt16) {
        let height = try request.int("h") ?? 0
        let width = try request.int("w") ?? 0
        guard (0...65535).contains(height), (0...65535).contains(width) else {
            throw .badParameter("invalid terminal size \(height)x\(width)")
        }
        return (UInt16(height), UInt16(width))
    }
}
