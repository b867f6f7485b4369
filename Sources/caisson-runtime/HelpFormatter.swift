/// Renders help in the shape runc's command line library (urfave/cli 1.22) prints it:
/// NAME, USAGE, VERSION, COMMANDS and GLOBAL OPTIONS for the program; NAME, USAGE,
/// DESCRIPTION and OPTIONS for one command; each flag as `--name value, -n value` and
/// its text, aligned in columns. Everything comes from the `Command` table, so every
/// flag a command accepts is listed and no other.
enum HelpFormatter {
    static let program = "caisson-runtime"

    /// `caisson-runtime --help`, `help` or no arguments at all.
    static func application(commands: [Command], globalFlags: [ArgumentScanner.Flag], version: String) -> String {
        var text = "NAME:\n   \(program) - \(CommandHelp.application)\n\n"
        text += "USAGE:\n   \(program) [global options] command [command options] [arguments...]\n\n"
        text += "VERSION:\n   \(version)\n\n"
        text += "COMMANDS:"
        for command in commands { text += "\n   \(command.name)\t\(command.help.summary)" }
        text += "\n   help, h\t\(CommandHelp.help.summary)\n\n"
        text += "GLOBAL OPTIONS:\n   " + globalFlags.map(flagLine).joined(separator: "\n   ") + "\n"
        return TabColumns.help.align(text)
    }

    /// `caisson-runtime COMMAND --help` and `caisson-runtime help COMMAND`.
    static func command(_ command: Command) -> String {
        let help = command.help
        let name = "\(program) \(command.name)"
        var text = "NAME:\n   \(name) - \(help.summary)\n\nUSAGE:\n   \(name)"
        if !command.flags.isEmpty { text += " [command options]" }
        text += " " + (help.argsUsage.isEmpty ? "[arguments...]" : help.argsUsage)
        if let description = help.description { text += "\n\nDESCRIPTION:\n   \(description)" }
        if !command.flags.isEmpty {
            text += "\n\nOPTIONS:\n   " + command.flags.map { flagLine($0) + "\n   " }.joined()
        }
        return TabColumns.help.align(text + "\n")
    }

    /// `--name value, -n value<TAB>text (default: X)`: one dash for one-letter names.
    static func flagLine(_ flag: ArgumentScanner.Flag) -> String {
        let names = flag.names.map { name in
            (name.count == 1 ? "-" : "--") + name + (flag.takesValue ? " value" : "")
        }
        var usage = flag.usage
        if let defaultText = flag.defaultText { usage += " (default: \(defaultText))" }
        return names.joined(separator: ", ") + "\t" + usage
    }
}
