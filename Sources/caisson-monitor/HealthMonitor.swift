#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import ContainerHealth

/// A container's health checks, run from the monitor's poll loop: the monitor is
/// single-threaded and must never stop relaying output or miss the exit status, so
/// nothing here blocks while the container runs. The loop asks for the poll timeout (the
/// next probe or deadline) and the probe's output descriptor, calls `tick` after each
/// poll, and hands over the status of every child it reaps.
///
/// docker's schedule (moby's `monitor`): the first probe one interval after the start
/// (the start interval instead while starting within the start period), the next one an
/// interval after the previous one ended, never two at once, none while the container is
/// paused (it then reports unhealthy, as docker does). The state is written to
/// `health.json` (write and rename) after each change, with a `health_status` event
/// when the status changes.
final class HealthMonitor {
    private let settings: HealthSettings
    private let runtime: [String]
    private let id: String
    private let statePath: String
    private let pidFile: String
    private let events: EventAppender
    private var state: HealthState
    /// The container's init, for the paused check.
    private var initPID: Int32 = 0
    /// Monotonic milliseconds of the container's start.
    private var startedAt: Int64 = 0
    private var nextProbe: Int64?
    private var probe: HealthProbe?
    /// A probe killed because the container ended: reaped, its result discarded.
    private var abandoned: HealthProbe?

    init(settings: HealthSettings, runtime: [String], id: String, directory: String, events: EventAppender) {
        self.settings = settings
        self.runtime = runtime
        self.id = id
        statePath = directory + "/health.json"
        pidFile = directory + "/health-probe.pid"
        self.events = events
        // An earlier run's log is kept, as docker keeps it across restarts.
        state = (try? Files.readBytes(statePath)).flatMap(HealthState.init(bytes:)) ?? HealthState()
    }

    // MARK: The container's life

    /// The container has started (or restarted): starting again, first probe scheduled.
    func containerStarted(initPID: Int32) {
        self.initPID = initPID
        state.restart()
        save()
        startedAt = Clock.monotonicMilliseconds()
        nextProbe = startedAt + interval(now: startedAt)
    }

    /// The container has ended: no more probes; a running one is killed and its result
    /// discarded (docker cancels it); unhealthy, as docker reports a stopped check.
    func containerStopped() {
        guard nextProbe != nil || probe != nil else { return }
        nextProbe = nil
        if let probe {
            probe.kill()
            abandoned = probe
            self.probe = nil
        }
        state.stop()
        save()
    }

    /// After the container has ended and its output is relayed: waits for an abandoned
    /// probe's runtime (killed, so at once) and reaps whatever it left to us, so no probe
    /// stays a zombie.
    func reapLeftovers() {
        containerStopped()
        if let abandoned {
            var status: Int32 = 0
            while waitpid(abandoned.runtimePID, &status, 0) < 0 && errno == EINTR {}
            abandoned.discard()
            self.abandoned = nil
        }
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG) > 0 {}
    }

    // MARK: The poll loop

    /// What the loop polls for the probe's output, if a probe runs.
    var outputFD: Int32? {
        guard let fd = probe?.outputFD, fd >= 0 else { return nil }
        return fd
    }

    /// Milliseconds until something is due (-1: nothing).
    var pollTimeout: Int32 {
        let due: Int64?
        if let probe { due = probe.forceDeadline ?? (probe.timedOut ? nil : probe.deadline) } else { due = nextProbe }
        guard let due else { return -1 }
        return Int32(clamping: max(0, due - Clock.monotonicMilliseconds()))
    }

    func outputReady() {
        probe?.readOutput()
    }

    /// Starts the probe that is due, or kills the one past its timeout.
    func tick() {
        let now = Clock.monotonicMilliseconds()
        if let probe {
            if let force = probe.forceDeadline, now >= force {
                probe.kill()
            } else if !probe.timedOut, now >= probe.deadline {
                probe.expire(now: now)
            }
            return
        }
        guard let due = nextProbe, now >= due else { return }
        if Processes.isFrozen(initPID) {
            // Paused: docker stops probing and reports unhealthy until a probe runs again.
            if state.status != .unhealthy {
                state.stop()
                save()
            }
            nextProbe = now + settings.intervalMilliseconds
            return
        }
        nextProbe = nil
        do {
            probe = try HealthProbe(runtime: runtime, id: id, command: settings.command, pidFile: pidFile, timeout: settings.timeout)
        } catch {
            let time = Clock.rfc3339Now()
            record(HealthProbeResult(start: time, end: time, exitCode: -1, output: "\(error)"), startedAt: now)
        }
    }

    /// A reaped child: the probe's runtime (true), or not ours (false).
    func reaped(_ pid: pid_t, status: Int32) -> Bool {
        if let abandoned, abandoned.runtimePID == pid {
            abandoned.discard()
            self.abandoned = nil
            return true
        }
        guard let probe, probe.runtimePID == pid else { return false }
        self.probe = nil
        let result = probe.finish(status: status)
        if result.exitCode != 0, Processes.isExiting(initPID) {
            // Killed with the rest of the container's pid namespace as its init exits
            // (the kernel reaps the namespace before the init): the container is ending,
            // and its probes end with it, unrecorded.
            containerStopped()
            return true
        }
        record(result, startedAt: probe.startedAt)
        return true
    }

    // MARK: State

    private func record(_ result: HealthProbeResult, startedAt probeStart: Int64) {
        let withinStartPeriod = probeStart - startedAt < settings.startPeriodMilliseconds
        if let changed = state.record(result, retries: settings.retries, withinStartPeriod: withinStartPeriod) {
            events.append("health_status: \(changed.rawValue)")
        }
        save()
        let now = Clock.monotonicMilliseconds()
        nextProbe = now + interval(now: now)
    }

    /// docker's `getInterval`: the start interval while starting within the start period.
    private func interval(now: Int64) -> Int64 {
        if now - startedAt >= settings.startPeriodMilliseconds { return settings.intervalMilliseconds }
        return state.status == .starting ? settings.startIntervalMilliseconds : settings.intervalMilliseconds
    }

    private func save() {
        try? Files.writeAtomically(statePath, bytes: state.encoded, mode: 0o600)
    }
}
