import CRIProto

/// What Exec, Attach and PortForward check before handing out a URL.
extension PodManager {
    func checkExec(_ request: Runtime_V1_ExecRequest) throws(CRIError) {
        guard !request.cmd.isEmpty else { throw .invalid("Exec: no command given") }
        guard request.stdin || request.stdout || request.stderr else {
            throw .invalid("Exec: one of stdin, stdout and stderr must be set")
        }
        if request.tty && request.stderr { throw .invalid("Exec: tty and stderr cannot both be set") }
        let record = try store.container(request.containerID).record
        guard store.state(ofDirectory: store.containerDirectory(record.id)).status == .running else {
            throw .failedPrecondition("container \(record.id) is not running")
        }
    }

    func checkAttach(_ request: Runtime_V1_AttachRequest) throws(CRIError) {
        guard request.stdin || request.stdout || request.stderr else {
            throw .invalid("Attach: one of stdin, stdout and stderr must be set")
        }
        let record = try store.container(request.containerID).record
        guard store.state(ofDirectory: store.containerDirectory(record.id)).status == .running else {
            throw .failedPrecondition("container \(record.id) is not running")
        }
        if request.tty != record.tty {
            throw .invalid("Attach: tty is \(request.tty) but the container was created with tty \(record.tty)")
        }
    }

    func checkPortForward(_ request: Runtime_V1_PortForwardRequest) throws(CRIError) {
        let record = try store.sandbox(request.podSandboxID).record
        guard isReady(record) else { throw .failedPrecondition("pod sandbox \(record.id) is not ready") }
        for port in request.port where port <= 0 || port > 65535 {
            throw .invalid("PortForward: invalid port \(port)")
        }
    }
}
