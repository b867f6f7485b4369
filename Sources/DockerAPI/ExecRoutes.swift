#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import Engine
import NIOHTTP1

/// docker exec: `POST /containers/{id}/exec` (an instance), `POST /exec/{id}/start` (run
/// it, detached or on the hijacked connection), `POST /exec/{id}/resize` and
/// `GET /exec/{id}/json`. The command runs through the engine's `ExecProcess` (the
/// runtime's `exec`), with the container's process settings and the instance's changes.
extension DockerAPI {
    func addExecRoutes(_ router: inout Router) {
        router.add(.POST, "/containers/{id}/exec") { [self] request in
            let id = request.parameters["id"] ?? ""
            let execRequest = try ExecCreateRequest.parse(request.body)
            let record = try await blocking { () throws -> ContainerRecord in
                let record = try self.engine.find(id)
                let state = self.engine.state(of: record)
                if state.status == .paused {
                    throw DockerAPIError.conflict("Container \(record.id) is paused, unpause the container before exec")
                }
                guard state.isRunning else { throw DockerAPIError.conflict("Container \(record.id) is not running") }
                return record
            }
            let instance = ExecInstance(id: ContainerEngine.randomID(), containerID: record.id, containerName: record.name,
                                        request: execRequest)
            execs.add(instance)
            await execEvent("exec_create: " + execRequest.settings.command.joined(separator: " "), instance)
            var object = JSONObject()
            object.set("Id", .string(instance.id))
            return .json(object, status: .created)
        }
        router.add(.GET, "/exec/{id}/json") { [self] request in
            let instance = try execs.find(request.parameters["id"] ?? "")
            return .json(ExecDocument.inspect(instance))
        }
        router.add(.POST, "/exec/{id}/resize") { [self] request in
            let instance = try execs.find(request.parameters["id"] ?? "")
            let (rows, columns) = try TerminalSize.from(request)
            instance.resize(rows: rows, columns: columns)
            return APIResponse(status: .ok)
        }
        router.add(.POST, "/exec/{id}/start") { [self] request in
            let instance = try execs.find(request.parameters["id"] ?? "")
            let body = try JSONBody(parsing: request.body)
            let detach = try body.bool("Detach") ?? false
            if let size = try body.ints("ConsoleSize"), size.count == 2, size[0] > 0, size[1] > 0 {
                instance.resize(rows: UInt16(clamping: size[0]), columns: UInt16(clamping: size[1]))
            }
            let detachKeys = instance.request.detachKeys.isEmpty ? DetachKeys.standard
                : try DetachKeys(parsing: instance.request.detachKeys)
            guard instance.claim() else {
                throw DockerAPIError.conflict("Error: Exec command \(instance.id) is already running")
            }
            // Everything that can fail with a status fails here, before any hijack.
            let launched: Result<ExecProcess, EngineError>
            do {
                let process = try await blocking { () throws(EngineError) -> ExecProcess in
                    let record = try self.engine.find(instance.containerID)
                    guard self.engine.state(of: record).status == .running else { throw .notRunning(record.id) }
                    let file = try self.engine.writeExecProcess(record, instance.request.settings)
                    let request = instance.request
                    return try ExecProcess.start(ExecLaunch(
                        runtime: self.engine.runtimeCommand(record, []), containerID: record.id, processFile: file,
                        tty: request.settings.tty, stdin: request.attachStdin && !detach,
                        stdout: true, stderr: true, monitorPath: self.engine.options.monitorPath,
                        socketDirectory: self.engine.options.runRoot))
                }
                instance.running(process)
                launched = .success(process)
                await execEvent("exec_start: " + instance.request.settings.command.joined(separator: " "), instance)
            } catch let error as EngineError {
                switch error {
                case .commandNotFound, .commandNotExecutable:
                    // docker reports these in the stream and as the exit code (127, 126).
                    instance.ended(error.exitCode)
                    launched = .failure(error)
                case .invalid:
                    // A user or group the container does not have: dockerd says so in the
                    // stream and the exec exits 126.
                    instance.ended(126)
                    launched = .failure(error)
                case .notRunning, .noSuchContainer:
                    instance.ended(126)
                    throw DockerAPIError.conflict(error.description)
                default:
                    instance.ended(126)
                    throw error
                }
            }
            let tty = instance.request.settings.tty
            if detach {
                if case .success(let process) = launched {
                    Task { [self] in await drain(process, instance: instance) }
                }
                return APIResponse(status: .ok)
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: StreamFraming.contentType(tty: tty, version: request.version))
            return APIResponse(status: .ok, headers: headers, body: .hijack { [self] stream in
                switch launched {
                case .failure(let error):
                    var message = "OCI runtime exec failed: exec failed: unable to start container process: \(error.description): unknown"
                    if case .invalid(let reason) = error { message = reason }
                    let text = Array((message + "\r\n").utf8)
                    try? await stream.write(StreamFraming.output(.stdout, text, tty: tty))
                case .success(let process):
                    await relay(process, instance: instance, stream: stream, detachKeys: detachKeys)
                }
            })
        }
    }

    /// docker's exec events (`exec_create: CMD`, `exec_start: CMD`, `exec_die` with the
    /// exit code), with the exec's id.
    func execEvent(_ action: String, _ instance: ExecInstance, _ extra: [String: String] = [:]) async {
        _ = try? await blocking { () throws -> Void in
            let record = try self.engine.find(instance.containerID)
            self.engine.recordContainerEvent(action, record, ["execID": instance.id].merging(extra) { $1 })
        }
    }

    /// A detached exec: its output read and thrown away until it ends.
    func drain(_ process: ExecProcess, instance: ExecInstance) async {
        let code = await OwnThread.run { () -> Int32 in
            ExecOutputRelay(process: process, stream: nil, instance: instance).run()
        }
        instance.ended(code)
        await execEvent("exec_die", instance, ["exitCode": String(code)])
        process.closeAll()
    }

    /// An attached exec: output to the client, the client's input to the command.
    func relay(_ process: ExecProcess, instance: ExecInstance, stream: HijackedStream, detachKeys: DetachKeys) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let code = await OwnThread.run { () -> Int32 in
                    ExecOutputRelay(process: process, stream: stream, instance: instance).run()
                }
                instance.ended(code)
                await self.execEvent("exec_die", instance, ["exitCode": String(code)])
                stream.close()
            }
            if instance.request.attachStdin {
                group.addTask { [self] in
                    var matcher = DetachKeys.Matcher(detachKeys)
                    while let bytes = try? await stream.read() {
                        let (forward, detach) = matcher.feed(bytes)
                        if !forward.isEmpty { _ = try? await blocking { process.writeStdin(forward) } }
                        if detach {
                            // The command goes on; its output is thrown away from now on.
                            stream.close()
                            return
                        }
                    }
                    _ = try? await blocking { process.closeStdin() }
                }
            }
            await group.waitForAll()
        }
        process.closeAll()
    }
}

/// The command's output to the client (framed unless it has a terminal) until it has
/// exited and its output is drained; once the client is gone the output is read and
/// dropped. Returns the exit status.
struct ExecOutputRelay {
    let process: ExecProcess
    let stream: HijackedStream?
    let instance: ExecInstance

    func run() -> Int32 {
        let tty = instance.request.settings.tty
        var clientGone = stream == nil
        var exitCode: Int32?
        var drainDeadline: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if exitCode == nil, let code = process.exitStatus() {
                exitCode = code
                // The pipes end with the runtime; the deadline is only for a command that
                // left a process holding them (a busy machine can take long to get here).
                drainDeadline = Clock.monotonicMilliseconds() + 5000
            }
            if exitCode != nil && (process.outputs.isEmpty || Clock.monotonicMilliseconds() > drainDeadline) { break }
            var fds = process.outputs.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), 50) < 0 && errno != EINTR { break }
            for (index, output) in process.outputs.enumerated() where index < fds.count && fds[index].revents != 0 {
                let n = read(output.fd, &buffer, buffer.count)
                if n > 0 {
                    let wanted = output.stream == "stdout" ? instance.request.attachStdout : instance.request.attachStderr
                    guard wanted || tty, !clientGone, let stream else { continue }
                    let bytes = StreamFraming.output(output.stream == "stderr" ? .stderr : .stdout, Array(buffer[0..<n]), tty: tty)
                    do { try stream.writeBlocking(bytes) } catch { clientGone = true }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    process.closeOutput(output.fd)
                }
            }
        }
        return exitCode ?? process.waitExit()
    }
}

/// The body of `POST /containers/{id}/exec`.
enum ExecCreateRequest {
    static func parse(_ bytes: [UInt8]) throws(DockerAPIError) -> ExecInstance.Request {
        let body = try JSONBody(parsing: bytes)
        guard let command = try body.strings("Cmd", acceptingString: true), !command.isEmpty else {
            throw .badParameter("No exec command specified")
        }
        var settings = ExecSettings(command: command)
        settings.tty = try body.bool("Tty") ?? false
        settings.env = try body.strings("Env") ?? []
        for entry in settings.env where entry.hasPrefix("=") || entry.isEmpty {
            throw .badParameter("invalid field Env: invalid environment variable: \(entry)")
        }
        if let directory = try body.string("WorkingDir"), !directory.isEmpty {
            guard directory.hasPrefix("/") else {
                throw .badParameter("invalid field WorkingDir: the working directory '\(directory)' is invalid, it needs to be an absolute path")
            }
            settings.workingDir = directory
        }
        if let user = try body.string("User"), !user.isEmpty { settings.user = user }
        settings.privileged = try body.bool("Privileged") ?? false
        let detachKeys = try body.string("DetachKeys") ?? ""
        if !detachKeys.isEmpty { _ = try DetachKeys(parsing: detachKeys) }
        var size: (rows: UInt16, columns: UInt16)?
        if let numbers = try body.ints("ConsoleSize"), numbers.count == 2, numbers[0] > 0, numbers[1] > 0 {
            size = (UInt16(clamping: numbers[0]), UInt16(clamping: numbers[1]))
        }
        return ExecInstance.Request(settings: settings, attachStdin: try body.bool("AttachStdin") ?? false,
                                    attachStdout: try body.bool("AttachStdout") ?? false,
                                    attachStderr: try body.bool("AttachStderr") ?? false,
                                    detachKeys: detachKeys, consoleSize: size)
    }
}

/// `GET /exec/{id}/json`.
enum ExecDocument {
    static func inspect(_ instance: ExecInstance) -> JSONObject {
        let request = instance.request
        var object = JSONObject()
        object.set("CanRemove", .bool(false))
        object.set("ContainerID", .string(instance.containerID))
        object.set("DetachKeys", .string(request.detachKeys))
        object.set("ExitCode", instance.exitCode.map { .int($0) } ?? .null)
        object.set("ID", .string(instance.id))
        object.set("OpenStderr", .bool(request.attachStderr))
        object.set("OpenStdin", .bool(request.attachStdin))
        object.set("OpenStdout", .bool(request.attachStdout))
        var process = JSONObject()
        process.set("arguments", .strings(Array(request.settings.command.dropFirst())))
        process.set("entrypoint", .string(request.settings.command.first ?? ""))
        process.set("privileged", .bool(request.settings.privileged))
        process.set("tty", .bool(request.settings.tty))
        process.set("user", .string(request.settings.user ?? ""))
        if let directory = request.settings.workingDir { process.set("workingDir", .string(directory)) }
        object.set("ProcessConfig", .object(process))
        object.set("Running", .bool(instance.isRunning()))
        object.set("Pid", .int(instance.pid))
        return object
    }
}
