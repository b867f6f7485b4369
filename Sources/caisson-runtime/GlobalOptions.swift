#if canImport(Glibc)
import Glibc
#endif
import RuntimeCore

/// The options runc accepts before the command name.
struct GlobalOptions {
    var root = "/run/caisson"
    var logPath: String?
    var logFormat = RuntimeLog.Format.text
    var debug = false
    var command: String?
    var arguments: [String] = []
    var showVersion = false
    var showHelp = false

    /// In runc's order, as `--help` lists them.
    static let flags: [ArgumentScanner.Flag] = [
        .init(names: ["debug"], takesValue: false, usage: "log the stages of each command at debug level"),
        .init(names: ["log"], takesValue: true,
              usage: "write the runtime's log to this file (the default is the standard error)"),
        .init(names: ["log-format"], takesValue: true, usage: "log line format: 'text' or 'json'", defaultText: "\"text\""),
        .init(names: ["root"], takesValue: true,
              usage: "directory holding the containers' state (keep it on a tmpfs)", defaultText: "\"/run/caisson\""),
        .init(names: ["criu"], takesValue: true,
              usage: "path to the criu binary (accepted for runc's sake; checkpoint and restore are not supported)",
              defaultText: "\"criu\""),
        .init(names: ["systemd-cgroup"], takesValue: false,
              usage: "use the systemd cgroup driver (not supported: refused; use cgroupfs)"),
        .init(names: ["rootless"], takesValue: true,
              usage: "rootless mode: 'true', 'false' or 'auto' (only false, or auto as root, is supported)",
              defaultText: "\"auto\""),
        .init(names: ["help", "h"], takesValue: false, usage: "show help"),
        .init(names: ["version", "v"], takesValue: false, usage: "print the version"),
    ]

    init(_ words: [String]) throws(ArgumentScanner.UsageError) {
        let scanner = try ArgumentScanner(words, flags: GlobalOptions.flags, stopAtFirstPositional: true,
                                          command: "caisson-runtime")
        if let root = scanner.value("root") { self.root = root }
        logPath = scanner.value("log")
        if let format = scanner.value("log-format") {
            guard let parsed = RuntimeLog.Format(rawValue: format) else {
                throw .init(description: "--log-format: \"\(format)\" is not text or json")
            }
            logFormat = parsed
        }
        debug = scanner.isSet("debug")
        if scanner.isSet("systemd-cgroup") {
            throw .init(description: "--systemd-cgroup: the systemd cgroup driver is not supported by caisson-runtime; "
                + "configure the engine to use cgroupfs (e.g. cgroup_manager = \"cgroupfs\" for podman)")
        }
        if let rootless = scanner.value("rootless") {
            guard ["auto", "true", "false"].contains(rootless) else {
                throw .init(description: "--rootless: \"\(rootless)\" is not auto, true or false")
            }
            // auto means rootless only when not root; this runtime does not have a rootless mode yet.
            if rootless == "true" || (rootless == "auto" && getuid() != 0) {
                throw .init(description: "--rootless: rootless mode is not supported by caisson-runtime yet; run it as root")
            }
        }
        showVersion = scanner.isSet("version")
        showHelp = scanner.isSet("help")
        command = scanner.positionals.first
        arguments = Array(scanner.positionals.dropFirst())
    }
}
