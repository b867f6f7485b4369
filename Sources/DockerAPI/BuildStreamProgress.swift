import Builder
import CaissonJSON

/// A build's progress as docker's classic builder streams it to `docker build`:
/// `{"stream":"Step 1/4 : FROM busybox\n"}`, ` ---> Using cache` for a cached step, a RUN
/// step's output as it comes, `[Warning] ...` lines; nothing but warnings when quiet. The
/// lines go to `sink`, which the response writes.
struct BuildStreamProgress: BuildProgress {
    let sink: AsyncStream<JSONObject>.Continuation
    let quiet: Bool

    static func stream(_ text: String) -> JSONObject {
        var line = JSONObject()
        line.set("stream", .string(text))
        return line
    }

    private func send(_ text: String) {
        if !quiet { sink.yield(BuildStreamProgress.stream(text)) }
    }

    func started(step: Int, of total: Int, _ text: String) { send("Step \(step)/\(total) : \(text)\n") }
    func cached(step: Int) { send(" ---> Using cache\n") }
    func output(step: Int, _ bytes: ArraySlice<UInt8>) { send(String(decoding: bytes, as: UTF8.self)) }
    func finished(step: Int) {}
    func failed(step: Int) {}
    func message(_ line: String) { send(line + "\n") }
    func warning(_ line: String) { sink.yield(BuildStreamProgress.stream("[Warning] \(line)\n")) }
}
