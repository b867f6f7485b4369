#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

// caisson-monitor: started by `caisson` for each container (see Monitor).
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--version" {
    print("caisson-monitor 0.1.0")
    exit(0)
}
if arguments.first == "init", arguments.count >= 2, arguments[1] == "--" {
    exit(MiniInit.run(Array(arguments.dropFirst(2))))
}
if arguments == ["pause"] {
    exit(PauseProcess.run())
}
if arguments.first == "exec-wait", arguments.count >= 4, arguments[2] == "--" {
    exit(ExecWait.run(pidFile: arguments[1], command: Array(arguments.dropFirst(3))))
}
if arguments.first == "netns-connect", arguments.count == 3 {
    exit(NetworkNamespace.connect(namespace: arguments[1], port: arguments[2]))
}
if arguments.first == "netns-create", arguments.count == 2 {
    exit(NetworkNamespace.create(at: arguments[1]))
}
do {
    let options = try MonitorOptions(arguments)
    // Whoever spawned us (caissond, or a `caisson` that exits soon) waits for this first
    // process only: the monitor goes on in a child that init (or the nearest subreaper)
    // adopts, as conmon does, so a long-lived daemon never holds its exit status (a zombie).
    switch fork() {
    case -1:
        _ = try? Files.writeAll(fd: 3, bytes: Array("error: \(SysError("fork"))\n".utf8))
        exit(125)
    case 0:
        Monitor(options: options).run()
    default:
        _exit(0)
    }
} catch {
    let message = "caisson-monitor: \(error)\n"
    _ = try? Files.writeAll(fd: 2, bytes: Array(message.utf8))
    _ = try? Files.writeAll(fd: 3, bytes: Array("error: \(error)\n".utf8))
    exit(125)
}
