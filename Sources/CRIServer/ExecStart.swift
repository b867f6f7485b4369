import CRIProto
import Engine

extension ExecProcess {
    /// The CRI's streaming Exec: the pod container's process settings with the request's
    /// command, started through the engine's `ExecProcess`.
    static func start(manager: PodManager, request: Runtime_V1_ExecRequest) throws(CRIError) -> ExecProcess {
        let record = try manager.store.container(request.containerID).record
        let processFile = try manager.writeExecProcess(record: record, command: request.cmd, tty: request.tty)
        let launch = ExecLaunch(runtime: [record.runtimePath, "--root", manager.runtimeRoot(for: record.runtimePath)],
                                containerID: record.id, processFile: processFile, tty: request.tty, stdin: request.stdin,
                                stdout: request.stdout, stderr: request.stderr, monitorPath: manager.options.monitorPath,
                                socketDirectory: manager.options.runRoot)
        do { return try ExecProcess.start(launch) } catch { throw .failed(error.description) }
    }
}
