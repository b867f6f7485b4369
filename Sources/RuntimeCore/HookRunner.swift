#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import OCISpec

/// Runs OCI hooks: each is executed with its args and env, the container state as
/// JSON on its standard input, and killed if it outlives its timeout.
public enum HookRunner {
    /// Runs hooks in order; the first failure stops the rest and is returned as an error.
    /// `workingDirectory`: where the hooks start (createContainer hooks: the container's
    /// root, as runc runs them); the caller's own otherwise.
    public static func run(_ hooks: [Hook]?, kind: String, state: HookState,
                           workingDirectory: String? = nil) throws(RuntimeError) {
        guard let hooks, !hooks.isEmpty else { return }
        let input = SpecJSON.encode(state)
        for (index, hook) in hooks.enumerated() {
            try run(hook, kind: kind, index: index, input: input, workingDirectory: workingDirectory)
        }
    }

    /// Runs hooks whose failure must not stop the lifecycle (poststart, poststop):
    /// failures are logged as warnings.
    public static func runWarning(_ hooks: [Hook]?, kind: String, state: HookState) {
        guard let hooks, !hooks.isEmpty else { return }
        let input = SpecJSON.encode(state)
        for (index, hook) in hooks.enumerated() {
            do {
                try run(hook, kind: kind, index: index, input: input)
            } catch {
                RuntimeLog.shared.warn("\(error)")
            }
        }
    }

    static func run(_ hook: Hook, kind: String, index: Int, input: [UInt8],
                    workingDirectory: String? = nil) throws(RuntimeError) {
        var stdinPipe: [Int32] = [-1, -1]
        var outputPipe: [Int32] = [-1, -1]
        guard caisson_pipe2(&stdinPipe, O_CLOEXEC) == 0, caisson_pipe2(&outputPipe, O_CLOEXEC) == 0 else {
            throw .system(SysError("pipe for \(kind) hook", path: hook.path))
        }
        let argv = CStringArray(hook.args ?? [hook.path])
        let envp = CStringArray(hook.env ?? [])
        let path = hook.path
        let pid = caisson_clone(0, nil)
        if pid == 0 {
            if let workingDirectory, chdir(workingDirectory) != 0 { _exit(126) }
            dup2(stdinPipe[0], 0)
            dup2(outputPipe[1], 1)
            dup2(outputPipe[1], 2)
            execve(path, argv.pointers, envp.pointers)
            _exit(127)
        }
        close(stdinPipe[0])
        close(outputPipe[1])
        if pid < 0 {
            close(stdinPipe[1]); close(outputPipe[0])
            throw .system(SysError("start \(kind) hook", path: hook.path))
        }
        // A hook that does not read its input must not block us: ignore EPIPE.
        signal(SIGPIPE, SIG_IGN)
        try? Files.writeAll(fd: stdinPipe[1], bytes: input)
        close(stdinPipe[1])

        let deadline = hook.timeout.flatMap { $0 > 0 ? Clock.monotonicMilliseconds() + Int64($0) * 1000 : nil }
        var output: [UInt8] = []
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var descriptor = pollfd(fd: outputPipe[0], events: Int16(POLLIN), revents: 0)
            let wait = deadline.map { Int32(max(0, $0 - Clock.monotonicMilliseconds())) } ?? -1
            let ready = poll(&descriptor, 1, wait)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { timedOut = true; break }
            let n = buffer.withUnsafeMutableBytes { read(outputPipe[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            if output.count < 4096 { output += buffer[0..<n] }
        }
        close(outputPipe[0])
        if timedOut { kill(pid, SIGKILL) }
        let status = (try? Processes.waitForExit(pid)) ?? 255
        let text = Text.trim(String(decoding: output, as: UTF8.self))
        // runc's shape, "error running prestart hook #1: ...", numbered from 0 as the spec lists them.
        let prefix = "error running \(kind) hook #\(index) (\(hook.path))"
        if timedOut {
            throw .hookFailed("\(prefix): timed out after \(hook.timeout ?? 0)s")
        }
        if status != 0 {
            let detail = text.isEmpty ? "" : ", output: \(text)"
            throw .hookFailed("\(prefix): exit status \(status)\(detail)")
        }
    }
}
