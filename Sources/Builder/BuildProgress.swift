#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// Where a build reports what it does, step by step: the plain lines of `--progress plain`
/// (`PlainProgress`), or a live view on a terminal that the command line draws. Steps are
/// numbered in Dockerfile order across the stages built; stages running side by side
/// report their steps interleaved.
public protocol BuildProgress: Sendable {
    /// Step `step` of `total` begins (`text`: `FROM ...` or the instruction as written).
    func started(step: Int, of total: Int, _ text: String)
    /// The step's result came from the cache.
    func cached(step: Int)
    /// What a RUN step's command printed (stdout and stderr together).
    func output(step: Int, _ bytes: ArraySlice<UInt8>)
    /// The step is done (after `cached` too).
    func finished(step: Int)
    /// The step failed; the error is reported by whoever called the builder.
    func failed(step: Int)
    /// A line that belongs to no step's output (`ONBUILD ...` triggers).
    func message(_ line: String)
    /// Something the user should know that does not stop the build (build args not used).
    func warning(_ line: String)
}

/// Plain progress, as buildah prints it: `STEP 3/12: RUN make`, the command's output as it
/// comes, `--> Using cache` for cached steps; nothing at all when quiet.
public struct PlainProgress: BuildProgress {
    let fd: Int32

    /// `fd` < 0: quiet.
    public init(fd: Int32) { self.fd = fd }

    private func write(_ bytes: [UInt8]) {
        guard fd >= 0 else { return }
        try? Files.writeAll(fd: fd, bytes: bytes)
    }

    public func started(step: Int, of total: Int, _ text: String) { write(Array("STEP \(step)/\(total): \(text)\n".utf8)) }
    public func cached(step: Int) { write(Array("--> Using cache\n".utf8)) }
    public func output(step: Int, _ bytes: ArraySlice<UInt8>) { write(Array(bytes)) }
    public func finished(step: Int) {}
    public func failed(step: Int) {}
    public func message(_ line: String) { write(Array((line + "\n").utf8)) }
    /// On standard error, as buildah prints its warnings.
    public func warning(_ line: String) {
        guard fd >= 0 else { return }
        try? Files.writeAll(fd: 2, bytes: Array("[Warning] \(line)\n".utf8))
    }
}
