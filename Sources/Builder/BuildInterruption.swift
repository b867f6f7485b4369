#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Synchronization

/// A build asked to stop (Ctrl-C, SIGTERM, SIGHUP), or a stage that failed while others
/// run beside it. The steps running are ended at once (their containers killed through the
/// runtime); the stages then stop before their next step, and every step's own clean-up
/// (container, mount, scratch directories) runs as for a failure, so an interrupted build
/// leaves nothing behind and no image is written. One per build.
public final class BuildInterruption: Sendable {
    private struct RunningStep: Sendable {
        var runtime: String
        var runtimeRoot: String
        var id: String
    }

    private struct State: Sendable {
        var requested = false
        var running: [String: RunningStep] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Marks the build interrupted and kills the containers of the steps running.
    public func request() {
        let running = state.withLock { state in
            state.requested = true
            return Array(state.running.values)
        }
        for step in running { kill(step) }
    }

    /// A stage failed: the stages beside it stop the same way.
    func stopSiblings() { request() }

    /// Records the container a RUN step is about to start (or has started); killed now if
    /// the build was interrupted meanwhile.
    func stepStarting(runtime: String, runtimeRoot: String, id: String) {
        let step = RunningStep(runtime: runtime, runtimeRoot: runtimeRoot, id: id)
        let requested = state.withLock { state in
            state.running[id] = step
            return state.requested
        }
        if requested { kill(step) }
    }

    func stepEnded(id: String) {
        _ = state.withLock { $0.running.removeValue(forKey: id) }
    }

    /// Kills the step's container. A step is recorded just before its `runtime run`, so
    /// the container may not exist yet: while the kill finds none and the step has not
    /// ended, it is tried again (5 s at most), or the step would run to its end.
    private func kill(_ step: RunningStep) {
        let deadline = Clock.monotonicMilliseconds() + 5000
        while true {
            let status = (try? Spawn.run([step.runtime, "--root", step.runtimeRoot, "kill", step.id, "KILL"])) ?? 1
            if status == 0 { return }
            let running = state.withLock { $0.running[step.id] != nil }
            if !running || Clock.monotonicMilliseconds() >= deadline { return }
            Clock.sleep(milliseconds: 10)
        }
    }
}
