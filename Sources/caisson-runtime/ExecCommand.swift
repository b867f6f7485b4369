#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import OCISpec
import RuntimeCore

/// `exec`: the process comes from --process FILE, or from the container's own process
/// settings with the command line's args and overrides, as runc builds it.
func execCommand(_ arguments: ArgumentScanner, _ runtime: Runtime) throws -> Int32 {
    guard let id = arguments.positionals.first else {
        throw ArgumentScanner.UsageError(description: "exec: a container id is required")
    }
    if let label = arguments.value("process-label"), !label.isEmpty {
        throw RuntimeError.unsupported("exec: --process-label: SELinux is not available on this host")
    }
    if let profile = arguments.value("apparmor"), !profile.isEmpty {
        throw RuntimeError.unsupported("exec: --apparmor: AppArmor is not available on this host")
    }
    var process: Process
    if let file = arguments.value("process") {
        let bytes = file == "-" ? try Files.readAll(fd: 0, path: "stdin") : try Files.readBytes(file)
        process = try SpecJSON.decodeProcess(bytes, file: file)
    } else {
        let commandLine = Array(arguments.positionals.dropFirst())
        guard !commandLine.isEmpty else {
            // runc counts this as exec failing (255), not as a usage error.
            throw RuntimeError.usage("exec: process args cannot be empty: give a command (or --process FILE)")
        }
        let record = try runtime.store.load(id: id)
        guard var base = record.config.process else {
            throw RuntimeError.usage("exec: container \"\(id)\" has no process settings to start from")
        }
        base.args = commandLine
        base.terminal = arguments.isSet("tty")
        base.consoleSize = nil
        base.env = (base.env ?? []) + arguments.all("env")
        if let cwd = arguments.value("cwd") { base.cwd = cwd }
        if let user = arguments.value("user") {
            let parts = user.split(separator: ":", omittingEmptySubsequences: false)
            guard let uid = UInt32(parts[0]), parts.count <= 2, parts.count == 1 || UInt32(parts[1]) != nil else {
                throw ArgumentScanner.UsageError(description: "exec: --user \"\(user)\" must be UID or UID:GID (numbers)")
            }
            base.user.uid = uid
            base.user.gid = parts.count == 2 ? UInt32(parts[1])! : 0
        }
        let gids = try arguments.all("additional-gids").map { (text: String) throws -> UInt32 in
            guard let gid = UInt32(text) else {
                throw ArgumentScanner.UsageError(description: "exec: --additional-gids \"\(text)\" is not a number")
            }
            return gid
        }
        if !gids.isEmpty { base.user.additionalGids = gids }
        if arguments.isSet("no-new-privs") { base.noNewPrivileges = true }
        let added = arguments.all("cap")
        if !added.isEmpty {
            var caps = base.capabilities ?? Capabilities()
            caps.bounding = (caps.bounding ?? []) + added
            caps.effective = (caps.effective ?? []) + added
            caps.permitted = (caps.permitted ?? []) + added
            caps.ambient = (caps.ambient ?? []) + added
            caps.inheritable = (caps.inheritable ?? []) + added
            base.capabilities = caps
        }
        process = base
    }
    if arguments.isSet("tty") { process.terminal = true }
    var options = ExecOptions()
    options.detach = arguments.isSet("detach")
    options.pidFile = arguments.value("pid-file")
    options.consoleSocket = arguments.value("console-socket")
    options.preserveFDs = try arguments.integer("preserve-fds") ?? 0
    options.ignorePaused = arguments.isSet("ignore-paused")
    options.subCgroups = arguments.all("cgroup")
    return try runtime.exec(id: id, process: process, options: options)
}

/// `update`: resources from a JSON file (or stdin) and/or individual flags.
func updateResources(_ arguments: ArgumentScanner) throws -> Resources {
    var resources = Resources()
    if let file = arguments.value("resources") {
        let bytes = file == "-" ? try Files.readAll(fd: 0, path: "stdin") : try Files.readBytes(file)
        resources = try SpecJSON.decode(Resources.self, from: bytes, file: file)
    }
    for unsupported in ["kernel-memory", "l3-cache-schema", "mem-bw-schema"] where arguments.value(unsupported) != nil {
        throw RuntimeError.unsupported("update: --\(unsupported) is not supported by caisson-runtime")
    }
    func number(_ name: String) throws -> Int64? {
        guard let text = arguments.value(name) else { return nil }
        guard let value = Int64(text) else { throw ArgumentScanner.UsageError(description: "update: --\(name) \"\(text)\" is not a number") }
        return value
    }
    func bytes(_ name: String) throws -> Int64? {
        guard let text = arguments.value(name) else { return nil }
        guard let value = ByteSize.parse(text) else {
            throw ArgumentScanner.UsageError(description: "update: --\(name) \"\(text)\" is not a size (e.g. 512m, 1g, -1)")
        }
        return value
    }
    if let limit = try bytes("memory") { resources.memory = resources.memory ?? .init(); resources.memory?.limit = limit }
    if let swap = try bytes("memory-swap") { resources.memory = resources.memory ?? .init(); resources.memory?.swap = swap }
    if let reservation = try bytes("memory-reservation") { resources.memory = resources.memory ?? .init(); resources.memory?.reservation = reservation }
    if let tcp = try bytes("kernel-memory-tcp") { resources.memory = resources.memory ?? .init(); resources.memory?.kernelTCP = tcp }
    if let shares = try number("cpu-share") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.shares = UInt64(max(0, shares)) }
    if let quota = try number("cpu-quota") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.quota = quota }
    if let period = try number("cpu-period") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.period = UInt64(max(0, period)) }
    if let period = try number("cpu-rt-period") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.realtimePeriod = UInt64(max(0, period)) }
    if let runtime = try number("cpu-rt-runtime") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.realtimeRuntime = runtime }
    if let cpus = arguments.value("cpuset-cpus") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.cpus = cpus }
    if let mems = arguments.value("cpuset-mems") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.mems = mems }
    if let pids = try number("pids-limit") { resources.pids = .init(limit: pids) }
    if let weight = try number("blkio-weight") {
        guard (10...1000).contains(weight) || weight == 0 else {
            throw ArgumentScanner.UsageError(description: "update: --blkio-weight must be between 10 and 1000")
        }
        resources.blockIO = resources.blockIO ?? .init()
        resources.blockIO?.weight = UInt16(weight)
    }
    return resources
}

/// Sizes as docker and runc accept them: plain bytes, or with b/k/m/g/t suffixes; -1 for unlimited.
enum ByteSize {
    static let suffixes: [(String, Int64)] = [
        ("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("tb", 1 << 40),
        ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40), ("b", 1),
    ]

    static func parse(_ text: String) -> Int64? {
        if text == "-1" { return -1 }
        let lower = text.lowercased()
        var digits = lower
        var multiplier: Int64 = 1
        for (suffix, value) in suffixes where lower.hasSuffix(suffix) {
            digits = String(lower.dropLast(suffix.count))
            multiplier = value
            break
        }
        guard let number = Int64(digits), number >= 0 else { return nil }
        let (result, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : result
    }
}
