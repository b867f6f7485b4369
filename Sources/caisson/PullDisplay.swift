#if canImport(Glibc)
import Glibc
#endif
import ImageSpec
import Images
import Synchronization
import CLIFormatting

/// Shows a pull as docker does: on a terminal one line per layer with a progress bar,
/// redrawn in place; otherwise plain status lines as each layer changes state.
final class PullDisplay: Sendable {
    private struct LayerLine {
        var id: String
        var status: String
        var done: Int64 = 0
        var total: Int64 = 0
    }

    private struct State {
        var order: [Digest] = []
        var lines: [Digest: LayerLine] = [:]
        var drawn = 0
        var lastDraw: Int64 = 0
        var digest: Digest?
        var downloaded = false
        var resolvedName: String?
    }

    private let quiet: Bool
    private let terminal: Bool
    private let state = Mutex(State())

    init(quiet: Bool, terminal: Bool) {
        self.quiet = quiet
        self.terminal = terminal
    }

    var digest: Digest? { state.withLock { $0.digest } }
    var downloaded: Bool { state.withLock { $0.downloaded } }
    var resolvedName: String? { state.withLock { $0.resolvedName } }

    func observe(_ event: PullEvent) {
        state.withLock { state in
            switch event {
            case .resolving:
                return
            case .layerWaiting(let digest, let size):
                set(&state, digest, "Pulling fs layer", total: size)
            case .layerExists(let digest):
                set(&state, digest, "Already exists")
            case .layerDownloading(let digest, let done, let total):
                if state.lines[digest]?.status == "Downloading", !terminal { 
                    state.lines[digest]?.done = done
                    return
                }
                set(&state, digest, "Downloading", done: done, total: total, force: false)
            case .layerDownloaded(let digest):
                set(&state, digest, "Download complete")
            case .layerExtracting(let digest):
                set(&state, digest, "Extracting")
            case .layerComplete(let digest):
                set(&state, digest, "Pull complete")
            case .finished(let record, let reference, let digest, let downloaded):
                state.digest = digest
                state.downloaded = downloaded
                state.resolvedName = reference.description
                _ = record
            }
        }
    }

    private func set(_ state: inout State, _ digest: Digest, _ status: String, done: Int64 = 0, total: Int64 = 0,
                     force: Bool = true) {
        if state.lines[digest] == nil {
            state.order.append(digest)
            state.lines[digest] = LayerLine(id: digest.shortID, status: status)
        }
        state.lines[digest]?.status = status
        if done > 0 { state.lines[digest]?.done = done }
        if total > 0 { state.lines[digest]?.total = total }
        guard !quiet else { return }
        if terminal {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let milliseconds = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
            if !force, milliseconds - state.lastDraw < 100 { return }
            state.lastDraw = milliseconds
            redraw(&state)
        } else if let line = state.lines[digest] {
            print("\(line.id): \(line.status)")
            fflush(nil)
        }
    }

    private func redraw(_ state: inout State) {
        var out = ""
        if state.drawn > 0 { out += "\u{1b}[\(state.drawn)A" }
        for digest in state.order {
            guard let line = state.lines[digest] else { continue }
            out += "\u{1b}[2K\(line.id): \(line.status)"
            if line.status == "Downloading", line.total > 0 {
                let width = 50
                let filled = Int(Double(width) * Double(line.done) / Double(line.total))
                let bar = String(repeating: "=", count: max(0, filled - 1)) + (filled > 0 ? ">" : "")
                    + String(repeating: " ", count: max(0, width - filled))
                out += "  [\(bar)]  \(Units.humanSize(line.done))/\(Units.humanSize(line.total))"
            }
            out += "\n"
        }
        state.drawn = state.order.count
        print(out, terminator: "")
        fflush(nil)
    }

    /// Plain status lines on standard error (for `run`, whose stdout is the container's).
    func observeToStderr(_ event: PullEvent) {
        switch event {
        case .layerComplete(let digest): writeError("\(digest.shortID): Pull complete\n")
        case .layerExists(let digest): writeError("\(digest.shortID): Already exists\n")
        default: break
        }
    }

    func finish() {
        guard terminal, !quiet else { return }
        state.withLock { redraw(&$0) }
    }
}
