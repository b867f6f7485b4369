#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Cgroups
import OCISpec
import RuntimeCore

/// One runtime command: its flags, its usage line and what it does. Returns the exit code.
struct Command: Sendable {
    let name: String
    let usage: String
    let flags: [ArgumentScanner.Flag]
    var stopAtFirstPositional = false
    let action: @Sendable (ArgumentScanner, Runtime) throws -> Int32
}

typealias Flag = ArgumentScanner.Flag

private func value(_ names: String...) -> Flag { Flag(names: names, takesValue: true) }
private func toggle(_ names: String...) -> Flag { Flag(names: names, takesValue: false) }

private func requireID(_ arguments: ArgumentScanner, _ command: String, extra: Int = 0) throws -> String {
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

private func printLine(_ text: String) {
    try? Files.writeAll(fd: 1, bytes: Array((text + "\n").utf8))
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

private let createFlags: [Flag] = [
    value("bundle", "b"), value("console-socket"), value("pid-file"), toggle("no-pivot"),
    toggle("no-new-keyring"), value("preserve-fds"),
]

let commands: [Command] = [
    Command(name: "create", usage: "create [--bundle DIR] [--pid-file FILE] [--console-socket SOCKET] [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID",
            flags: createFlags) { arguments, runtime in
        let id = try requireID(arguments, "create")
        try runtime.create(id: id, options: try createOptions(arguments))
        return 0
    },
    Command(name: "run", usage: "run [-d] [--keep] [--bundle DIR] [--pid-file FILE] [--console-socket SOCKET] [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID",
            flags: createFlags + [toggle("detach", "d"), toggle("keep"), toggle("no-subreaper")]) { arguments, runtime in
        let id = try requireID(arguments, "run")
        if arguments.isSet("detach") && arguments.isSet("keep") {
            throw ArgumentScanner.UsageError(description: "run: --keep and --detach cannot be used together")
        }
        return try runtime.run(id: id, options: try createOptions(arguments), detach: arguments.isSet("detach"),
                               keep: arguments.isSet("keep"))
    },
    Command(name: "start", usage: "start ID", flags: []) { arguments, runtime in
        try runtime.start(id: try requireID(arguments, "start"))
        return 0
    },
    Command(name: "state", usage: "state ID", flags: []) { arguments, runtime in
        printJSON(try runtime.state(id: try requireID(arguments, "state")))
        return 0
    },
    Command(name: "kill", usage: "kill [--all] ID [SIGNAL]", flags: [toggle("all", "a")]) { arguments, runtime in
        let id = try requireID(arguments, "kill", extra: 1)
        let signal = try Signals.parse(arguments.positionals.count > 1 ? arguments.positionals[1] : "TERM", allowingZero: true)
        try runtime.kill(id: id, signal: signal, all: arguments.isSet("all"))
        return 0
    },
    Command(name: "delete", usage: "delete [--force] ID", flags: [toggle("force", "f")]) { arguments, runtime in
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
    Command(name: "list", usage: "list [--format table|json] [--quiet]", flags: [value("format", "f"), toggle("quiet", "q")]) { arguments, runtime in
        let containers = runtime.list()
        if arguments.isSet("quiet") {
            containers.forEach { printLine($0.id) }
            return 0
        }
        switch arguments.value("format") ?? "table" {
        case "json":
            printJSON(containers)
        case "table":
            var rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
            rows += containers.map { [$0.id, String($0.pid), $0.status.rawValue, $0.bundle, $0.created, $0.owner] }
            printTable(rows)
        case let other:
            throw ArgumentScanner.UsageError(description: "list: --format \"\(other)\" is not table or json")
        }
        return 0
    },
    Command(name: "ps", usage: "ps [--format table|json] ID [ps options]", flags: [value("format", "f")],
            stopAtFirstPositional: true) { arguments, runtime in
        let id = try requireID(arguments, "ps", extra: Int.max - 1)
        let pids = try runtime.pids(id: id)
        switch arguments.value("format") ?? "table" {
        case "json":
            printJSON(pids)
        case "table":
            let psArguments = arguments.positionals.count > 1 ? Array(arguments.positionals.dropFirst()) : ["-ef"]
            try printProcessTable(pids: pids, psArguments: psArguments)
        case let other:
            throw ArgumentScanner.UsageError(description: "ps: --format \"\(other)\" is not table or json")
        }
        return 0
    },
    Command(name: "exec", usage: "exec [-t] [-d] [--process FILE] [-e K=V] [--cwd DIR] [-u UID[:GID]] [-g GID] [--cap CAP] [--no-new-privs] [--pid-file FILE] [--console-socket SOCKET] [--preserve-fds N] ID [COMMAND ARGS...]",
            flags: [value("console-socket"), value("cwd"), value("env", "e"), toggle("tty", "t"), value("user", "u"),
                    value("additional-gids", "g"), value("process", "p"), toggle("detach", "d"), value("pid-file"),
                    value("process-label"), value("apparmor"), toggle("no-new-privs"), value("cap", "c"),
                    value("preserve-fds"), toggle("ignore-paused"), value("cgroup")],
            stopAtFirstPositional: true) { arguments, runtime in
        try execCommand(arguments, runtime)
    },
    Command(name: "pause", usage: "pause ID", flags: []) { arguments, runtime in
        try runtime.pause(id: try requireID(arguments, "pause"))
        return 0
    },
    Command(name: "resume", usage: "resume ID", flags: []) { arguments, runtime in
        try runtime.resume(id: try requireID(arguments, "resume"))
        return 0
    },
    Command(name: "update", usage: "update [-r FILE|-] [--memory N] [--memory-swap N] [--memory-reservation N] [--cpu-share N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus LIST] [--cpuset-mems LIST] [--pids-limit N] [--blkio-weight N] ID",
            flags: [value("resources", "r"), value("blkio-weight"), value("cpu-period"), value("cpu-quota"),
                    value("cpu-share"), value("cpu-rt-period"), value("cpu-rt-runtime"), value("cpuset-cpus"),
                    value("cpuset-mems"), value("memory"), value("memory-reservation"), value("memory-swap"),
                    value("pids-limit"), value("kernel-memory"), value("kernel-memory-tcp"),
                    value("l3-cache-schema"), value("mem-bw-schema")]) { arguments, runtime in
        let id = try requireID(arguments, "update")
        try runtime.update(id: id, resources: try updateResources(arguments))
        return 0
    },
    Command(name: "events", usage: "events [--stats] [--interval DURATION] ID", flags: [toggle("stats"), value("interval")]) { arguments, runtime in
        try eventsCommand(arguments, runtime)
    },
    Command(name: "spec", usage: "spec [--bundle DIR] [--rootless]", flags: [value("bundle", "b"), toggle("rootless")]) { arguments, _ in
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
    Command(name: "features", usage: "features", flags: []) { _, _ in
        printJSON(Features.current(runtimeVersion: RuntimeVersion.version, seccompVersion: RuntimeVersion.libseccomp))
        return 0
    },
    Command(name: "checkpoint", usage: "checkpoint ID", flags: []) { _, _ in
        throw RuntimeError.unsupported("checkpoint: checkpoint/restore (CRIU) is not supported by caisson-runtime")
    },
    Command(name: "restore", usage: "restore ID", flags: []) { _, _ in
        throw RuntimeError.unsupported("restore: checkpoint/restore (CRIU) is not supported by caisson-runtime")
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

/// Prints rows in columns like Go's tabwriter with runc's settings (min width 12, padding 3).
func printTable(_ rows: [[String]]) {
    guard let columns = rows.first?.count else { return }
    var widths = [Int](repeating: 12, count: columns)
    for row in rows {
        for (index, cell) in row.enumerated() where index < columns - 1 {
            widths[index] = max(widths[index], cell.count + 3)
        }
    }
    for row in rows {
        var line = ""
        for (index, cell) in row.enumerated() {
            line += index < columns - 1 ? cell + String(repeating: " ", count: widths[index] - cell.count) : cell
        }
        printLine(line)
    }
}
