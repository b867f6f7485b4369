#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Cgroups
import OCISpec
import RuntimeCore

/// One runtime command: its flags, what `--help` says of it and what it does. Returns
/// the exit code. The table below is the only list of commands and flags: the scanner
/// and the help both read it.
struct Command: Sendable {
    let name: String
    let help: CommandHelp
    let flags: [ArgumentScanner.Flag]
    var stopAtFirstPositional = false
    let action: @Sendable (ArgumentScanner, Runtime) throws -> Int32
}

typealias Flag = ArgumentScanner.Flag

private func value(_ names: String..., usage: String, default defaultText: String? = nil) -> Flag {
    Flag(names: names, takesValue: true, usage: usage, defaultText: defaultText)
}
private func toggle(_ names: String..., usage: String) -> Flag { Flag(names: names, takesValue: false, usage: usage) }

func requireID(_ arguments: ArgumentScanner, _ command: String, extra: Int = 0) throws -> String {
    guard let id = arguments.positionals.first else {
        throw ArgumentScanner.UsageError(description: "\(command): a container id is required")
    }
    if arguments.positionals.count > 1 + extra {
        throw ArgumentScanner.UsageError(description: "\(command): unexpected argument \"\(arguments.positionals[1 + extra])\"")
    }
    return id
}

private func printJSON<T: Encodable>(_ value: T) {
    var bytes = SpecJSON.encode(value, pretty: true)
    bytes.append(UInt8(ascii: "\n"))
    try? Files.writeAll(fd: 1, bytes: bytes)
}

func printText(_ text: String) {
    try? Files.writeAll(fd: 1, bytes: Array(text.utf8))
}

private func createOptions(_ arguments: ArgumentScanner) throws -> CreateOptions {
    var options = CreateOptions(bundle: arguments.value("bundle") ?? ".")
    options.pidFile = arguments.value("pid-file")
    options.consoleSocket = arguments.value("console-socket")
    options.noPivot = arguments.isSet("no-pivot")
    options.noNewKeyring = arguments.isSet("no-new-keyring")
    options.preserveFDs = try arguments.integer("preserve-fds") ?? 0
    guard options.preserveFDs >= 0 else { throw ArgumentScanner.UsageError(description: "--preserve-fds must not be negative") }
    return options
}

private enum FlagText {
    static let bundle = "path to the bundle directory (config.json and the root filesystem), the current directory if not given"
    static let consoleSocket = "path to an AF_UNIX socket that receives the master end of the container's pseudoterminal"
    static let pidFile = "write the process id of the container's process to this file"
    static let noPivot = "do not use pivot_root to confine the process to the rootfs (needed when the rootfs is on a ramdisk); chroot instead"
    static let noNewKeyring = "do not give the container a session keyring of its own: it keeps the caller's"
    static let preserveFDs = "pass N more file descriptors to the container process (stdio + $LISTEN_FDS + N in total)"
    static let detach = "do not wait for the container's process: return once it is started"
    static let format = "select one of: table or json"
}

private let createFlags: [Flag] = [
    value("bundle", "b", usage: FlagText.bundle),
    value("console-socket", usage: FlagText.consoleSocket),
    value("pid-file", usage: FlagText.pidFile),
    toggle("no-pivot", usage: FlagText.noPivot),
    toggle("no-new-keyring", usage: FlagText.noNewKeyring),
    value("preserve-fds", usage: FlagText.preserveFDs, default: "0"),
]

private let runFlags: [Flag] = [
    value("bundle", "b", usage: FlagText.bundle),
    value("console-socket", usage: FlagText.consoleSocket),
    toggle("detach", "d", usage: FlagText.detach),
    toggle("keep", usage: "keep the container (do not delete it) after its process exits"),
    value("pid-file", usage: FlagText.pidFile),
    toggle("no-subreaper", usage: "do not become a subreaper for the processes the container leaves behind"),
    toggle("no-pivot", usage: FlagText.noPivot),
    toggle("no-new-keyring", usage: FlagText.noNewKeyring),
    value("preserve-fds", usage: FlagText.preserveFDs, default: "0"),
]

private let execFlags: [Flag] = [
    value("console-socket", usage: FlagText.consoleSocket),
    value("cwd", usage: "working directory of the process in the container"),
    value("env", "e", usage: "add an environment variable (KEY=VALUE; may be repeated)"),
    toggle("tty", "t", usage: "give the process a pseudoterminal"),
    value("user", "u", usage: "user of the process, as UID or UID:GID"),
    value("additional-gids", "g", usage: "add a supplementary group id (may be repeated)"),
    value("process", "p", usage: "path to a process.json holding the whole process (\"-\" for the standard input)"),
    toggle("detach", "d", usage: FlagText.detach),
    value("pid-file", usage: FlagText.pidFile),
    value("process-label", usage: "SELinux label for the process (not supported: only an empty label is accepted)"),
    value("apparmor", usage: "AppArmor profile for the process (not supported: only an empty profile is accepted)"),
    toggle("no-new-privs", usage: "set no_new_privs for the process"),
    value("cap", "c", usage: "add a capability to the process's sets (may be repeated)"),
    value("preserve-fds", usage: FlagText.preserveFDs, default: "0"),
    value("cgroup", usage: "run the process in an existing sub-cgroup of the container: [CONTROLLER[,CONTROLLER...]:]PATH (may be repeated)"),
    toggle("ignore-paused", usage: "allow exec into a paused container (the process stays frozen until resume)"),
]

private let updateFlags: [Flag] = [
    value("resources", "r", usage: "read the resources to update as JSON from this file, or from the standard input with '-'"),
    value("blkio-weight", usage: "block IO weight of the cgroup, 10 to 1000", default: "0"),
    value("cpu-period", usage: "CPU CFS period in microseconds (0 for the system's default)"),
    value("cpu-quota", usage: "CPU CFS quota in microseconds: the CPU time allowed in each period"),
    value("cpu-share", usage: "CPU shares: the weight against other cgroups"),
    value("cpu-rt-period", usage: "CPU realtime period in microseconds (0 for the system's default)"),
    value("cpu-rt-runtime", usage: "CPU realtime runtime in microseconds allowed in each period"),
    value("cpuset-cpus", usage: "CPUs the container may use (e.g. 0-2,4)"),
    value("cpuset-mems", usage: "memory nodes the container may use (e.g. 0,1)"),
    value("kernel-memory", usage: "kernel memory limit (not supported: refused)"),
    value("kernel-memory-tcp", usage: "kernel TCP buffer memory limit in bytes (cgroup v1 only)"),
    value("memory", usage: "memory limit in bytes (suffixes k, m, g; -1 for unlimited)"),
    value("memory-reservation", usage: "memory reservation (soft limit) in bytes"),
    value("memory-swap", usage: "memory plus swap limit in bytes; -1 for unlimited swap"),
    value("pids-limit", usage: "maximum number of processes in the container (-1 for unlimited)", default: "0"),
    value("l3-cache-schema", usage: "Intel RDT L3 cache schema (not supported: refused)"),
    value("mem-bw-schema", usage: "Intel RDT memory bandwidth schema (not supported: refused)"),
]

/// The commands, in the order runc lists them in `--help`.
let commands: [Command] = [
    Command(name: "checkpoint", help: .checkpoint, flags: []) { _, _ in
        throw RuntimeError.unsupported("checkpoint: checkpoint/restore (CRIU) is not supported by caisson-runtime")
    },
    Command(name: "create", help: .create, flags: createFlags) { arguments, runtime in
        let id = try requireID(arguments, "create")
        try runtime.create(id: id, options: try createOptions(arguments))
        return 0
    },
    Command(name: "delete", help: .delete, flags: [
        toggle("force", "f", usage: "delete the container even if it is still running: its processes are killed with SIGKILL"),
    ]) { arguments, runtime in
        guard !arguments.positionals.isEmpty else {
            throw ArgumentScanner.UsageError(description: "delete: a container id is required")
        }
        for id in arguments.positionals {
            do {
                try runtime.delete(id: id, force: arguments.isSet("force"))
            } catch RuntimeError.containerNotFound(_) where arguments.isSet("force") {
                // runc: deleting a container that is already gone with --force succeeds.
                runtime.store.remove(id: id)
            }
        }
        return 0
    },
    Command(name: "events", help: .events, flags: [
        value("interval", usage: "how often to collect statistics", default: "5s"),
        toggle("stats", usage: "print the container's statistics once, then exit"),
    ]) { arguments, runtime in
        try eventsCommand(arguments, runtime)
    },
    Command(name: "exec", help: .exec, flags: execFlags, stopAtFirstPositional: true) { arguments, runtime in
        try execCommand(arguments, runtime)
    },
    Command(name: "kill", help: .kill, flags: [
        toggle("all", "a", usage: "send the signal to every process of the container, not only its init process"),
    ]) { arguments, runtime in
        let id = try requireID(arguments, "kill", extra: 1)
        let signal = try Signals.parse(arguments.positionals.count > 1 ? arguments.positionals[1] : "TERM", allowingZero: true)
        try runtime.kill(id: id, signal: signal, all: arguments.isSet("all"))
        return 0
    },
    Command(name: "list", help: .list, flags: [
        value("format", "f", usage: FlagText.format, default: "\"table\""),
        toggle("quiet", "q", usage: "print only the container ids"),
    ]) { arguments, runtime in
        try listCommand(arguments, runtime)
    },
    Command(name: "pause", help: .pause, flags: []) { arguments, runtime in
        try runtime.pause(id: try requireID(arguments, "pause"))
        return 0
    },
    Command(name: "ps", help: .ps, flags: [value("format", "f", usage: FlagText.format, default: "\"table\"")],
            stopAtFirstPositional: true) { arguments, runtime in
        try psCommand(arguments, runtime)
    },
    Command(name: "restore", help: .restore, flags: []) { _, _ in
        throw RuntimeError.unsupported("restore: checkpoint/restore (CRIU) is not supported by caisson-runtime")
    },
    Command(name: "resume", help: .resume, flags: []) { arguments, runtime in
        try runtime.resume(id: try requireID(arguments, "resume"))
        return 0
    },
    Command(name: "run", help: .run, flags: runFlags) { arguments, runtime in
        let id = try requireID(arguments, "run")
        if arguments.isSet("detach") && arguments.isSet("keep") {
            throw ArgumentScanner.UsageError(description: "run: --keep and --detach cannot be used together")
        }
        return try runtime.run(id: id, options: try createOptions(arguments), detach: arguments.isSet("detach"),
                               keep: arguments.isSet("keep"))
    },
    Command(name: "spec", help: .spec, flags: [
        value("bundle", "b", usage: "directory to write config.json into (the current directory if not given)"),
        toggle("rootless", usage: "write a configuration for a container run without root privileges"),
    ]) { arguments, _ in
        let bundle = arguments.value("bundle") ?? "."
        let path = bundle + "/config.json"
        if Files.exists(path) {
            throw RuntimeError.usage("spec: \(path) exists; remove it first")
        }
        // runc adds a cgroup namespace only where the host is cgroup v2 alone.
        let unified = (try? CgroupLayout.detect())?.mode == .unified
        let spec = DefaultSpec.make(rootless: arguments.isSet("rootless"), uid: getuid(), gid: getgid(),
                                    cgroupNamespace: unified)
        // Laid out as runc writes it: tab-indented, no final newline.
        try Files.write(path, bytes: tabIndented(SpecJSON.encode(spec, pretty: true)), mode: 0o666)
        return 0
    },
    Command(name: "start", help: .start, flags: []) { arguments, runtime in
        try runtime.start(id: try requireID(arguments, "start"))
        return 0
    },
    Command(name: "state", help: .state, flags: []) { arguments, runtime in
        var state = try runtime.state(id: try requireID(arguments, "state"))
        // runc's state document has no owner (its list fills it in).
        state.owner = ""
        printText(RuncJSON.state(state))
        return 0
    },
    Command(name: "update", help: .update, flags: updateFlags) { arguments, runtime in
        let id = try requireID(arguments, "update")
        try runtime.update(id: id, resources: try updateResources(arguments))
        return 0
    },
    Command(name: "features", help: .features, flags: []) { _, _ in
        printJSON(Features.current(runtimeVersion: RuntimeVersion.version, seccompVersion: RuntimeVersion.libseccomp))
        return 0
    },
]

/// Pretty JSON (two spaces a level) with each level's two spaces turned into a tab, as
/// Go's json.MarshalIndent(v, "", "\t") writes it. Strings never hold a raw newline.
func tabIndented(_ bytes: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count)
    var atLineStart = true
    var pendingSpaces = 0
    for byte in bytes {
        if atLineStart && byte == 0x20 {
            pendingSpaces += 1
            if pendingSpaces == 2 { output.append(0x09); pendingSpaces = 0 }
            continue
        }
        if pendingSpaces > 0 { output.append(0x20); pendingSpaces = 0 }
        atLineStart = byte == 0x0A
        output.append(byte)
    }
    return output
}
