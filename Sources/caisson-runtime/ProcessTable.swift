#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import RuntimeCore

/// `ps ID [ps options]`: the container's pids as one JSON line (`null` for none), or the
/// host's ps(1) run with the given options (`-ef` by default; every word after the id
/// goes to ps as it is, `--` included, as runc passes it) keeping the header and the
/// lines of the container's processes.
func psCommand(_ arguments: ArgumentScanner, _ runtime: Runtime) throws -> Int32 {
    let id = try requireID(arguments, "ps", extra: Int.max - 1)
    let format = arguments.value("format") ?? "table"
    guard format == "table" || format == "json" else { throw RuntimeError.usage("invalid format option") }
    let pids = try runtime.pids(id: id)
    if format == "json" {
        printText(RuncJSON.pids(pids))
        return 0
    }
    let psArguments = arguments.positionals.count > 1 ? Array(arguments.positionals.dropFirst()) : ["-ef"]
    try printProcessTable(pids: pids, psArguments: psArguments)
    return 0
}

/// Runs ps with its stdout and stderr in one pipe (runc reads its combined output) and
/// prints the header and the lines whose PID column is one of `pids`.
func printProcessTable(pids: [Int32], psArguments: [String]) throws {
    var output: [Int32] = [-1, -1]
    guard caisson_pipe2(&output, O_CLOEXEC) == 0 else { throw SysError("pipe for ps") }
    let argv = CStringArray(["ps"] + psArguments)
    let envp = CStringArray(Processes.currentEnvironment())
    let pid = caisson_clone(0, nil)
    if pid == 0 {
        dup2(output[1], 1)
        dup2(output[1], 2)
        for directory in ["/usr/bin", "/bin", "/usr/local/bin"] {
            execve(directory + "/ps", argv.pointers, envp.pointers)
        }
        _exit(127)
    }
    close(output[1])
    let text = String(decoding: try Files.readAll(fd: output[0], path: "ps output"), as: UTF8.self)
    close(output[0])
    let status = try Processes.waitForExit(pid)
    guard status == 0 else { throw RuntimeError.usage("exit status \(status): \(text)") }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let header = lines.first ?? ""
    guard let column = header.split(separator: " ").firstIndex(of: "PID") else {
        throw RuntimeError.usage("couldn't find PID field in ps output")
    }
    let wanted = Set(pids)
    var kept = String(header) + "\n"
    for line in lines.dropFirst() where !line.isEmpty {
        let fields = line.split(separator: " ")
        guard column < fields.count, let pid = Int32(fields[column]) else {
            throw RuntimeError.usage("unable to parse pid: \(column < fields.count ? String(fields[column]) : "")")
        }
        if wanted.contains(pid) { kept += String(line) + "\n" }
    }
    try Files.writeAll(fd: 1, bytes: Array(kept.utf8))
}
