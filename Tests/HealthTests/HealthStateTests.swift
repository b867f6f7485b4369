import CaissonJSON
import ContainerHealth
import Testing

/// docker's health rules (moby's `handleProbeResult` and `limitedBuffer`) as the monitor
/// applies them, and the `health.json` document the engine reads back.
@Suite struct HealthStateTests {
    func probe(_ code: Int, _ output: String = "") -> HealthProbeResult {
        HealthProbeResult(start: "2025-01-01T00:00:00.000000001Z", end: "2025-01-01T00:00:00.5Z", exitCode: code, output: output)
    }

    @Test("starting until the first success; retries failures in a row after it make it unhealthy; a success heals")
    func transitions() {
        var state = HealthState()
        #expect(state.record(probe(1), retries: 2, withinStartPeriod: false) == nil)
        #expect(state.failingStreak == 1 && state.status == .starting)
        #expect(state.record(probe(1), retries: 2, withinStartPeriod: false) == .unhealthy)
        #expect(state.failingStreak == 2)
        #expect(state.record(probe(0), retries: 2, withinStartPeriod: false) == .healthy)
        #expect(state.failingStreak == 0)
        #expect(state.record(probe(1), retries: 2, withinStartPeriod: false) == nil, "healthy stays healthy below the retries")
        #expect(state.record(probe(-1, "Health check exceeded timeout (1s)"), retries: 2, withinStartPeriod: false) == .unhealthy)
    }

    @Test("failures in the start period do not count while starting; once healthy they do")
    func startPeriod() {
        var state = HealthState()
        for _ in 0..<5 { #expect(state.record(probe(1), retries: 1, withinStartPeriod: true) == nil) }
        #expect(state.status == .starting && state.failingStreak == 0)
        #expect(state.record(probe(0), retries: 1, withinStartPeriod: true) == .healthy)
        #expect(state.record(probe(1), retries: 1, withinStartPeriod: true) == .unhealthy)
    }

    @Test("the log keeps the last five probes; a restart keeps it and starts again; a stop is unhealthy")
    func logAndRestart() {
        var state = HealthState()
        for code in 0..<7 { _ = state.record(probe(code), retries: 3, withinStartPeriod: false) }
        #expect(state.log.map(\.exitCode) == [2, 3, 4, 5, 6])
        state.restart()
        #expect(state.status == .starting && state.failingStreak == 0 && state.log.count == 5)
        state.stop()
        #expect(state.status == .unhealthy)
        #expect(HealthStatus.starting.label == "health: starting" && HealthStatus.healthy.label == "healthy")
    }

    @Test("health.json round-trips; damaged documents are no state")
    func document() throws {
        var state = HealthState()
        _ = state.record(probe(1, "quote \" newline \n tab \t é"), retries: 3, withinStartPeriod: false)
        let text = String(decoding: state.encoded, as: UTF8.self)
        #expect(text.hasPrefix(#"{"Status":"starting","FailingStreak":1,"Log":[{"Start":"#))
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1)
        #expect(HealthState(bytes: state.encoded) == state)
        #expect(HealthState(bytes: Array(#"{"Status":"sleepy"}"#.utf8)) == nil)
        #expect(HealthState(bytes: Array("{\"Status\":".utf8)) == nil)
    }

    @Test("output: standard output and error together, 4096 bytes kept, then \"...\"")
    func output() {
        var output = ProbeOutput()
        output.append(Array("ok\n".utf8))
        #expect(output.text == "ok\n")
        output.append([UInt8](repeating: 0x61, count: 5000))
        #expect(output.bytes.count == 4096 && output.truncated)
        #expect(output.text.hasSuffix("aaa...") && output.text.utf8.count == 4099)
        var exact = ProbeOutput()
        exact.append([UInt8](repeating: 0x62, count: 4096))
        #expect(!exact.truncated)
        exact.append([])
        #expect(!exact.truncated)
        exact.append([0x63])
        #expect(exact.truncated)
    }
}
