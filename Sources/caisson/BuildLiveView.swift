#if canImport(Glibc)
import Glibc
#endif
import Builder
import CaissonShim
import CaissonSys
import Foundation
import Synchronization

/// `caisson build --progress tty` (the default on a terminal): a live view of the steps
/// with their timings, redrawn in place ten times a second as BuildKit's is. A running
/// step shows the last lines its command printed; a finished one only its time, a cached
/// one `CACHED`; a failed one keeps its last lines. Written to standard error, so standard
/// output keeps only the result lines.
final class BuildLiveView: BuildProgress {
    private struct StepLine {
        var text: String
        var started: Int64
        var ended: Int64?
        var cached = false
        var failed = false
        var lines: [String] = []
        var partial: [UInt8] = []
    }

    private struct State {
        var steps: [Int: StepLine] = [:]
        var messages: [String] = []
        var total = 0
        var drawn = 0
        var done = false
    }

    static let keptLines = 6
    private let fd: Int32
    private let start = Clock.monotonicMilliseconds()
    private let state = Mutex(State())
    private let stopped = DispatchSemaphore(value: 0)

    init(fd: Int32 = 2) {
        self.fd = fd
        Thread.detachNewThread { [self] in
            while !state.withLock({ $0.done }) {
                draw(final: false)
                usleep(100_000)
            }
            stopped.signal()
        }
    }

    /// Whether `--progress auto` means this view: standard error is a terminal.
    static var isTerminal: Bool { isatty(2) == 1 }

    func started(step: Int, of total: Int, _ text: String) {
        state.withLock { state in
            state.total = total
            state.steps[step] = StepLine(text: text, started: Clock.monotonicMilliseconds())
        }
    }

    func cached(step: Int) {
        state.withLock { $0.steps[step]?.cached = true }
    }

    func output(step: Int, _ bytes: ArraySlice<UInt8>) {
        state.withLock { state in
            guard var line = state.steps[step] else { return }
            for byte in bytes {
                if byte == 0x0A || byte == 0x0D {
                    if !line.partial.isEmpty { line.lines.append(BuildLiveView.printable(line.partial)) }
                    line.partial.removeAll(keepingCapacity: true)
                } else if line.partial.count < 512 {
                    line.partial.append(byte)
                }
            }
            if line.lines.count > 2 * BuildLiveView.keptLines { line.lines.removeFirst(line.lines.count - BuildLiveView.keptLines) }
            state.steps[step] = line
        }
    }

    func finished(step: Int) {
        state.withLock { $0.steps[step]?.ended = Clock.monotonicMilliseconds() }
    }

    func failed(step: Int) {
        state.withLock { state in
            state.steps[step]?.ended = Clock.monotonicMilliseconds()
            state.steps[step]?.failed = true
        }
    }

    func message(_ line: String) {
        state.withLock { $0.messages.append(line) }
    }

    func warning(_ line: String) {
        state.withLock { $0.messages.append("WARNING: " + line) }
    }

    /// Stops redrawing and draws the last frame (once; later calls do nothing).
    func finish() {
        let first = state.withLock { state in
            defer { state.done = true }
            return !state.done
        }
        guard first else { return }
        stopped.wait()
        draw(final: true)
    }

    /// Printable text only: escape sequences a command prints would break the view.
    static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 < 0x20 || $0 == 0x7F ? 0x20 : $0 }, as: UTF8.self)
    }

    static func seconds(_ milliseconds: Int64) -> String {
        let tenths = milliseconds / 100
        return "\(tenths / 10).\(tenths % 10)s"
    }

    private func terminalSize() -> (columns: Int, rows: Int) {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return (100, 40) }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    private func draw(final: Bool) {
        let now = Clock.monotonicMilliseconds()
        let (columns, rows) = terminalSize()
        var frame = ""
        state.withLock { state in
            let done = state.steps.values.filter { $0.ended != nil }.count
            let failed = state.steps.values.contains { $0.failed }
            var lines = ["[+] Building \(BuildLiveView.seconds(now - start)) (\(done)/\(state.total))"
                         + (final ? (failed ? " FAILED" : " FINISHED") : "")]
            lines += state.messages.map { " => \($0)" }
            for number in state.steps.keys.sorted() {
                guard let step = state.steps[number] else { continue }
                let label = (step.failed ? "ERROR " : step.cached ? "CACHED " : "") + "[\(number)/\(state.total)] " + step.text
                let time = BuildLiveView.seconds((step.ended ?? now) - step.started)
                lines.append(BuildLiveView.fit(" => " + label, time: time, columns: columns))
                if step.ended == nil || step.failed {
                    var output = step.lines
                    if !step.partial.isEmpty { output.append(BuildLiveView.printable(step.partial)) }
                    for text in output.suffix(step.failed ? 2 * BuildLiveView.keptLines : BuildLiveView.keptLines) {
                        lines.append(BuildLiveView.fit(" => => # " + text, time: nil, columns: columns))
                    }
                }
            }
            // The view never grows taller than the terminal: the header and the latest lines.
            if lines.count > rows - 1 && !final {
                lines = [lines[0]] + lines.suffix(max(1, rows - 2))
            }
            // Back to the top of the last frame, each line redrawn, what is left below cleared.
            if state.drawn > 0 { frame += "\u{1B}[\(state.drawn)F" }
            for line in lines { frame += "\u{1B}[2K" + line + "\n" }
            frame += "\u{1B}[J"
            state.drawn = lines.count
        }
        try? Files.writeAll(fd: fd, bytes: Array(frame.utf8))
    }

    /// A line cut to the terminal's width (a wrapped line would break the redraw), the time
    /// at the right edge.
    static func fit(_ text: String, time: String?, columns: Int) -> String {
        let width = max(columns - 1, 20)
        let timeWidth = time.map { $0.count + 1 } ?? 0
        var body = String(text.prefix(width - timeWidth))
        guard let time else { return body }
        body += String(repeating: " ", count: max(1, width - timeWidth - body.count + 1))
        return body + time
    }
}
