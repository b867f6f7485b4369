#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import RuntimeCore

/// `ps` in table form: runs the host's ps(1) with the given options and keeps the
/// header and the lines of the container's processes, as runc does.
func printProcessTable(pids: [Int32], psArguments: [String]) throws {
    var output: [Int32] = [-1, -1]
    guard caisson_pipe2(&output, O_CLOEXEC) == 0 else { throw SysError("pipe for ps") }
    let argv = CStringArray(["ps"] + psArguments)
    let envp = CStringArray(Processes.currentEnvironment())
    let pid = caisson_clone(0, nil)
    if pid == 0 {
        dup2(output[1], 1)
        for directory in ["/usr/bin", "/bin", "/usr/local/bin"] {
            execve(directory + "/ps", argv.pointers, envp.pointers)
        }
        _exit(127)
    }
    close(output[1])
    let text = String(decoding: try Files.readAll(fd: output[0], path: "ps output"), as: UTF8.self)
    close(output[0])
    let status = try Processes.waitForExit(pid)
    guard status == 0 else { throw RuntimeError.usage("ps \(psArguments.joined(separator: " ")) failed with exit status \(status)") }
    let lines = Text.lines(text)
    guard let header = lines.first else { return }
    guard let column = header.split(separator: " ").firstIndex(of: "PID") else {
        throw RuntimeError.usage("ps: the output of ps has no PID column")
    }
    let wanted = Set(pids)
    var kept = [String(header)]
    for line in lines.dropFirst() {
        let fields = line.split(separator: " ")
        if column < fields.count, let pid = Int32(fields[column]), wanted.contains(pid) { kept.append(String(line)) }
    }
    try Files.writeAll(fd: 1, bytes: Array((kept.joined(separator: "\n") + "\n").utf8))
}
