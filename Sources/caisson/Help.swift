import ArgumentParser

/// Help in docker's shape (`Usage:  caisson run [OPTIONS] IMAGE [COMMAND] [ARG...]`, the
/// description, then `Options:` or `Commands:`), and docker's answer to a command that does
/// not exist. ArgumentParser knows every command's options; this rearranges its help
/// screen into the sections docker users look for.
enum Help {
    /// What the command line asks of help before anything is parsed: `caisson` alone,
    /// `caisson help [COMMAND...]`, or a command that does not exist. Returns the exit code
    /// when it answered, nil when the arguments are for the parser.
    static func answer(_ arguments: [String]) -> Int32? {
        if arguments.isEmpty {
            printOut(render([]))
            return 0
        }
        if arguments[0] == "help" {
            let names = Array(arguments.dropFirst())
            guard let path = resolve(names, strict: true) else { return unknown(names) }
            printOut(render(path))
            return 0
        }
        if resolve(arguments, strict: false) == nil { return unknown(arguments) }
        // A group with a default command (`scan`) named alone shows its help, as the
        // other groups do, rather than its default command's missing-argument error.
        if arguments == ["scan"] {
            printOut(render(resolve(arguments, strict: false) ?? []))
            return 0
        }
        return nil
    }

    /// The help screen for the command named in `arguments` (after a help request from the
    /// parser: `--help`, `-h`, or a group named alone).
    static func screen(for arguments: [String]) -> String {
        render(resolve(arguments, strict: false) ?? [])
    }

    // MARK: The command tree

    /// A command on the path from `caisson` down: its type and the name it was called by.
    struct Step {
        let type: ParsableCommand.Type
        let name: String
    }

    /// Follows command names from `caisson` down. Stops at the first option or at a
    /// command without subcommands; nil when a name is not a command (with `strict`, every
    /// word must be a command name).
    static func resolve(_ words: [String], strict: Bool) -> [Step]? {
        var path: [Step] = []
        var current: ParsableCommand.Type = Caisson.self
        for word in words {
            if word.hasPrefix("-") {
                if strict { return nil }
                break
            }
            let children = current.configuration.subcommands
            if children.isEmpty {
                if strict { return nil }
                break
            }
            guard let child = children.first(where: { names(of: $0).contains(word) }) else { return nil }
            path.append(Step(type: child, name: word))
            current = child
        }
        return path
    }

    static func names(of command: ParsableCommand.Type) -> [String] {
        let configuration = command.configuration
        return [configuration.commandName ?? String(describing: command).lowercased()] + configuration.aliases
    }

    static func unknown(_ words: [String]) -> Int32 {
        let commandWords = words.prefix { !$0.hasPrefix("-") }
        writeError("caisson: '\(commandWords.joined(separator: " "))' is not a caisson command.\nSee 'caisson --help'\n")
        return 125
    }

    // MARK: Rendering

    static func render(_ path: [Step]) -> String {
        guard let command = path.last else { return renderTop() }
        let configuration = command.type.configuration
        let calledAs = "caisson " + path.map(\.name).joined(separator: " ")
        let sections = parse(Caisson.helpMessage(for: command.type, columns: 100))
        var usage = configuration.usage ?? calledAs + " [OPTIONS]"
        // A command shared by two places (pull and image pull) is shown as called.
        let ownName = "caisson " + (configuration.commandName ?? "")
        if usage.hasPrefix(ownName + " ") || usage == ownName, !usage.hasPrefix(calledAs) {
            usage = calledAs + usage.dropFirst(ownName.count)
        }
        var text = "Usage:  " + usage.replacingTabs() + "\n\n" + sentence(configuration.abstract) + "\n"
        if !configuration.aliases.isEmpty {
            let parent = "caisson " + path.dropLast().map(\.name).joined(separator: " ")
            let prefix = parent.helpTrimmedRight() + " "
            let all: [String] = names(of: command.type).map { prefix + $0 }
            text += "\nAliases:\n  " + all.joined(separator: ", ") + "\n"
        }
        // docker's order: commands, arguments, options, global options.
        let order = ["SUBCOMMANDS", "ARGUMENTS", "OPTIONS"]
        let ordered = sections.filter { $0.0 != "OVERVIEW" && $0.0 != "USAGE" }.enumerated().sorted { a, b in
            (order.firstIndex(of: a.element.0) ?? order.count, a.offset) < (order.firstIndex(of: b.element.0) ?? order.count, b.offset)
        }.map(\.element)
        for (title, body) in ordered {
            switch title {
            case "SUBCOMMANDS":
                let lines = body.filter { !$0.helpTrimmed().hasPrefix("See '") }
                text += "\nCommands:\n" + lines.joined(separator: "\n").helpTrimmedRight() + "\n"
            default:
                // --version belongs to `caisson` itself, not to each command.
                let lines = body.filter { !$0.helpTrimmed().hasPrefix("--version ") }
                text += "\n" + heading(title) + ":\n" + lines.joined(separator: "\n").helpTrimmedRight() + "\n"
            }
        }
        if !configuration.subcommands.isEmpty {
            text += "\nRun '\(calledAs) COMMAND --help' for more information on a command.\n"
        }
        return text
    }

    /// `caisson` alone: the commands, management commands (groups) apart, as docker lists them.
    static func renderTop() -> String {
        let commands = Caisson.configuration.subcommands
        func rows(_ list: [ParsableCommand.Type]) -> String {
            let entries = list.map { (names(of: $0)[0], sentence($0.configuration.abstract)) }.sorted { $0.0 < $1.0 }
            let width = (entries.map(\.0.count).max() ?? 0) + 2
            return entries.map { "  " + $0.0.padded(to: width) + $0.1 }.joined(separator: "\n")
        }
        var text = "Usage:  caisson [OPTIONS] COMMAND\n\n" + sentence(Caisson.configuration.abstract) + "\n"
        text += "\nManagement Commands:\n" + rows(commands.filter { !$0.configuration.subcommands.isEmpty }) + "\n"
        text += "\nCommands:\n" + rows(commands.filter { $0.configuration.subcommands.isEmpty }) + "\n"
        text += "\nOptions:\n  -h, --help     Print usage\n      --version  Print version information and quit\n"
        text += "\nEvery command takes --root, --runroot, --registries-conf, --authfile and --storage-driver, before or after its name.\n"
        text += "\nRun 'caisson COMMAND --help' for more information on a command.\n"
        return text
    }

    /// ArgumentParser's help screen as (SECTION, lines) in order: `OVERVIEW: ...`,
    /// `USAGE: ...`, `ARGUMENTS:`, `OPTIONS:`, `SUBCOMMANDS:`, ...
    static func parse(_ screen: String) -> [(String, [String])] {
        var sections: [(String, [String])] = []
        for line in screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let first = line.first, first.isUppercase, let colon = line.firstIndex(of: ":"),
               line[..<colon].allSatisfy({ $0.isUppercase || $0 == " " }) {
                let rest = line[line.index(after: colon)...].helpTrimmed()
                sections.append((String(line[..<colon]), rest.isEmpty ? [] : [rest]))
            } else if !sections.isEmpty {
                sections[sections.count - 1].1.append(line)
            }
        }
        return sections.map { ($0.0, $0.1.reversed().drop { $0.helpTrimmed().isEmpty }.reversed()) }
    }

    static func heading(_ title: String) -> String {
        title.split(separator: " ").map { $0.prefix(1) + $0.dropFirst().lowercased() }.joined(separator: " ")
    }

    /// docker's one-line descriptions carry no full stop.
    static func sentence(_ abstract: String) -> String {
        abstract.hasSuffix(".") ? String(abstract.dropLast()) : abstract
    }
}

private extension String {
    func helpTrimmed() -> String { String(drop { $0 == " " }).helpTrimmedRight() }
    func helpTrimmedRight() -> String { String(reversed().drop { $0 == " " || $0 == "\n" }.reversed()) }
    func padded(to width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
    func replacingTabs() -> String { split(separator: "\t", omittingEmptySubsequences: false).joined(separator: " ") }
}

private extension Substring {
    func helpTrimmed() -> String { String(self).helpTrimmed() }
}
