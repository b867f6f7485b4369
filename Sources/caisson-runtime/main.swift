#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import OCISpec
import RuntimeCore

/// caisson-runtime: an OCI runtime with runc's command line.
///
/// Deliberately single-threaded and synchronous: it clones container processes directly,
/// which is only safe while no other thread exists.
enum RuntimeVersion {
    static let version = "0.1.0"
    static var libseccomp: String { RuntimeInfo.libseccompVersion() }
}

func printUsage() {
    var text = """
    caisson-runtime: an OCI runtime (runc-compatible command line)

    usage: caisson-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [ARGS]

    commands:

    """
    for command in commands { text += "  \(command.usage)\n" }
    try? Files.writeAll(fd: 1, bytes: Array(text.utf8))
}

func fail(_ message: String, code: Int32 = 1) -> Never {
    RuntimeLog.shared.error(message)
    try? Files.writeAll(fd: 2, bytes: Array("caisson-runtime: \(message)\n".utf8))
    exit(code)
}

let globals: GlobalOptions
do {
    globals = try GlobalOptions(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error.description)
}
do {
    try RuntimeLog.shared.configure(path: globals.logPath, format: globals.logFormat, debug: globals.debug)
} catch {
    fail(error.description)
}
if globals.showVersion {
    print("caisson-runtime version \(RuntimeVersion.version)\nspec: \(Spec.version)\nlibseccomp: \(RuntimeVersion.libseccomp)")
    exit(0)
}
guard let name = globals.command else {
    printUsage()
    exit(globals.showHelp ? 0 : 1)
}
if name == "help" {
    // runc's `help [COMMAND]`.
    guard let topic = globals.arguments.first else {
        printUsage()
        exit(0)
    }
    guard let command = commands.first(where: { $0.name == topic }) else {
        fail("unknown command \"\(topic)\" (see 'caisson-runtime --help')")
    }
    print("usage: caisson-runtime \(command.usage)")
    exit(0)
}
guard let command = commands.first(where: { $0.name == name }) else {
    fail("unknown command \"\(name)\" (see 'caisson-runtime --help')")
}
if globals.arguments.first == "--help" || globals.arguments.first == "-h" {
    print("usage: caisson-runtime \(command.usage)")
    exit(0)
}
do {
    let arguments = try ArgumentScanner(globals.arguments, flags: command.flags,
                                        stopAtFirstPositional: command.stopAtFirstPositional, command: name)
    let status = try command.action(arguments, Runtime(root: globals.root))
    exit(status)
} catch {
    // runc ends exec's own failures with 255, keeping 0-254 for the process's status;
    // callers (shims, probes) tell the two apart by it.
    if name == "exec", !(error is ArgumentScanner.UsageError) { fail("exec failed: \(error)", code: 255) }
    fail("\(error)")
}
