#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Synchronization

/// A build asked to stop (Ctrl-C, SIGTERM, SIGHUP). The step running is ended at once
/// (its container killed through the runtime); the builder then stops before the next
/// step, and every step's own clean-up (container, mount, scratch directories) runs as for
/// a failure, so an interrupted build leaves nothing behind and no image is written.
public final class BuildInterruption: Sendable {
    public static let shared = BuildInterruption()

    private struct RunningStep: Sendable {
        var runtime: String
        var runtimeRoot: String
        var id: String
    }

    private struct State: Sendable {
        var requested = false
        var running: RunningStep?
    }

    private let state = Mutex(State())

    public init() {}

    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Marks the build interrupted and kills the container of the step running, if any.
    public func request() {
        let running = state.withLock { state in
            state.requested = true
            return state.running
        }
        if let running { kill(running) }
    }

    /// Records the container a RUN step is about to start (or has started); killed now if
    /// the build was interrupted meanwhile.
    func stepStarting(runtime: String, runtimeRoot: String, id: String) {
        let step = RunningStep(runtime: runtime, runtimeRoot: runtimeRoot, id: id)
        let requested = state.withLock { state in
            state.running = step
            return state.requested
        }
        if requested { kill(step) }
    }

    func stepEnded() {
        state.withLock { $0.running = nil }
    }

    private func kill(_ step: RunningStep) {
        _ = try? Spawn.run([step.runtime, "--root", step.runtimeRoot, "kill", step.id, "KILL"])
    }
}
