import Engine
import Synchronization

/// One exec instance of the API (`POST /containers/{id}/exec`): what it runs and, once
/// started, its process and exit status. docker keeps these in memory too; they go with
/// their container (or, once ended, when too many have accumulated).
final class ExecInstance: Sendable {
    struct Request: Sendable {
        var settings: ExecSettings
        var attachStdin: Bool
        var attachStdout: Bool
        var attachStderr: Bool
        var detachKeys: String
        var consoleSize: (rows: UInt16, columns: UInt16)?
    }

    enum Phase: Sendable {
        case created
        case starting
        case running(ExecProcess)
        case ended(exitCode: Int32)
    }

    let id: String
    let containerID: String
    let containerName: String
    let request: Request
    private let state = Mutex<(phase: Phase, pid: Int32, pendingSize: (UInt16, UInt16)?)>((.created, 0, nil))

    init(id: String, containerID: String, containerName: String, request: Request) {
        self.id = id
        self.containerID = containerID
        self.containerName = containerName
        self.request = request
    }

    var phase: Phase { state.withLock { $0.phase } }
    var pid: Int32 { state.withLock { $0.pid } }

    /// Marks it started; false if it had been already.
    func claim() -> Bool {
        state.withLock { state in
            guard case .created = state.phase else { return false }
            state.phase = .starting
            return true
        }
    }

    func running(_ process: ExecProcess) {
        let size = state.withLock { state -> (UInt16, UInt16)? in
            state.phase = .running(process)
            state.pid = process.pid
            return state.pendingSize
        }
        if let (rows, columns) = size ?? request.consoleSize.map({ ($0.rows, $0.columns) }) {
            process.resize(rows: rows, columns: columns)
        }
    }

    func ended(_ code: Int32) {
        state.withLock { $0.phase = .ended(exitCode: code) }
    }

    func isRunning() -> Bool {
        switch phase {
        case .starting, .running: return true
        default: return false
        }
    }

    var exitCode: Int32? {
        if case .ended(let code) = phase { return code }
        return nil
    }

    func resize(rows: UInt16, columns: UInt16) {
        let process = state.withLock { state -> ExecProcess? in
            if case .running(let process) = state.phase { return process }
            state.pendingSize = (rows, columns)
            return nil
        }
        process?.resize(rows: rows, columns: columns)
    }
}

/// The API's exec instances by id.
final class ExecStore: Sendable {
    private let instances = Mutex<[String: ExecInstance]>([:])
    /// Ended instances kept at most (the oldest are forgotten first).
    static let keptEnded = 1000

    func add(_ instance: ExecInstance) {
        instances.withLock { instances in
            instances[instance.id] = instance
            let ended = instances.values.filter { $0.exitCode != nil }
            if ended.count > ExecStore.keptEnded {
                for old in ended.prefix(ended.count - ExecStore.keptEnded) { instances[old.id] = nil }
            }
        }
    }

    func find(_ id: String) throws(DockerAPIError) -> ExecInstance {
        guard let instance = instances.withLock({ $0[id] }) else { throw .notFound("No such exec instance: \(id)") }
        return instance
    }

    func ids(ofContainer id: String) -> [String] {
        instances.withLock { $0.values.filter { $0.containerID == id }.map(\.id).sorted() }
    }

    func forget(container id: String) {
        instances.withLock { instances in instances = instances.filter { $0.value.containerID != id } }
    }
}
