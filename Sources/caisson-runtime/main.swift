#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import OCISpec
import RuntimeCore

// caisson-runtime: an OCI runtime with runc's command line.
//
// Deliberately single-threaded and synchronous: it clones container processes directly,
// which is only safe while no other thread exists.

/// Reports a failed command (and logs it to --log) and exits.
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
    printText("caisson-runtime version \(RuntimeVersion.lines)\n")
    exit(0)
}
/// runc's `--help`, `help` and no command at all: the program's help, exit status 0.
func printApplicationHelp() -> Never {
    printText(HelpFormatter.application(commands: commands, globalFlags: GlobalOptions.flags,
                                        version: RuntimeVersion.lines))
    exit(0)
}
/// A name that is no command: runc's message and exit status 3.
func unknownCommand(_ name: String) -> Never {
    fail("No help topic for '\(name)'", code: 3)
}
func findCommand(_ name: String) -> Command? { commands.first { $0.name == name } }

guard !globals.showHelp, let name = globals.command else { printApplicationHelp() }
if name == "help" || name == "h" {
    guard let topic = globals.arguments.first else { printApplicationHelp() }
    guard let command = findCommand(topic) else { unknownCommand(topic) }
    printText(HelpFormatter.command(command))
    exit(0)
}
guard let command = findCommand(name) else { unknownCommand(name) }
/// Every command takes --help/-h, as urfave/cli adds it; it is not listed among its flags.
let helpFlag = ArgumentScanner.Flag(names: ["help", "h"], takesValue: false)
do {
    let arguments = try ArgumentScanner(globals.arguments, flags: command.flags + [helpFlag],
                                        stopAtFirstPositional: command.stopAtFirstPositional, command: name)
    if arguments.isSet("help") {
        printText(HelpFormatter.command(command))
        exit(0)
    }
    let status = try command.action(arguments, Runtime(root: globals.root))
    exit(status)
} catch {
    // runc ends exec's own failures with 255, keeping 0-254 for the process's status;
    // callers (shims, probes) tell the two apart by it.
    if name == "exec", !(error is ArgumentScanner.UsageError) { fail("exec failed: \(error)", code: 255) }
    fail("\(error)")
}
