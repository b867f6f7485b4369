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

    static let flags: [ArgumentScanner.Flag] = [
        .init(names: ["root"], takesValue: true),
        .init(names: ["log"], takesValue: true),
        .init(names: ["log-format"], takesValue: true),
        .init(names: ["debug"], takesValue: false),
        .init(names: ["systemd-cgroup"], takesValue: false),
        .init(names: ["rootless"], takesValue: true),
        .init(names: ["criu"], takesValue: true),
        .init(names: ["version", "v"], takesValue: false),
        .init(names: ["help", "h"], takesValue: false),
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
