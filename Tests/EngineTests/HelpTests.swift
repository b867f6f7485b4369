import Foundation
import Testing

/// Every command's help, in docker's shape, and docker's answer to a command that does not
/// exist. (Before, `caisson`, `--help` and `help` printed nothing and exited 0.)
@Suite("caisson help")
struct HelpTests {
    static func caisson(_ arguments: [String]) throws -> Shell.Result {
        try Shell.run(EngineFixture.binary, arguments, timeout: 30)
    }

    /// Command names listed under a heading of a help screen ("Commands:", ...).
    static func listed(_ screen: String, under heading: String) -> [String] {
        var names: [String] = []
        var inside = false
        for line in screen.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == heading { inside = true; continue }
            guard inside else { continue }
            if line.isEmpty { break }
            if let first = line.split(separator: " ").first { names.append(String(first).replacingOccurrences(of: ",", with: "")) }
        }
        return names
    }

    @Test("caisson alone, --help and help print the command list")
    func topLevel() throws {
        let alone = try Self.caisson([])
        #expect(alone.status == 0)
        #expect(alone.stdout.hasPrefix("Usage:  caisson [OPTIONS] COMMAND\n"))
        let commands = Self.listed(alone.stdout, under: "Commands:")
        let groups = Self.listed(alone.stdout, under: "Management Commands:")
        #expect(commands.contains("run") && commands.contains("ps") && commands.contains("pull"))
        #expect(groups == ["builder", "image", "network", "scan", "system", "volume"])
        #expect(try Self.caisson(["--help"]).stdout == alone.stdout)
        #expect(try Self.caisson(["help"]).stdout == alone.stdout)
        #expect(try Self.caisson(["-h"]).stdout == alone.stdout)
        let version = try Self.caisson(["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("caisson "))
    }

    @Test("every command and subcommand prints usage, a description and its options")
    func everyCommand() throws {
        let top = try Self.caisson([]).stdout
        var paths: [[String]] = Self.listed(top, under: "Commands:").map { [$0] }
        for group in Self.listed(top, under: "Management Commands:") {
            let screen = try Self.caisson([group, "--help"])
            #expect(screen.status == 0, "\(group) --help")
            // `scan` is also a command of its own (`caisson scan IMAGE`, its default).
            let usage = group == "scan" ? "Usage:  caisson scan [OPTIONS] IMAGE\n" : "Usage:  caisson \(group) COMMAND\n"
            #expect(screen.stdout.hasPrefix(usage), "\(screen.stdout)")
            #expect(screen.stdout.contains("Run 'caisson \(group) COMMAND --help'"))
            let children = Self.listed(screen.stdout, under: "Commands:")
            #expect(!children.isEmpty, "\(group) lists no commands")
            paths += children.map { [group, $0] }
            // A group named alone shows its help too, as docker's does.
            #expect(try Self.caisson([group]).stdout == screen.stdout)
        }
        #expect(paths.count > 40)
        var index = 0
        while index < paths.count {
            let path = paths[index]
            index += 1
            let help = try Self.caisson(path + ["--help"])
            let name = "caisson " + path.joined(separator: " ")
            #expect(help.status == 0, "\(name) --help exited \(help.status): \(help.stderr)")
            #expect(help.stdout.hasPrefix("Usage:  \(name)"), "\(name) --help: \(help.stdout.prefix(200))")
            // A group inside a group (`scan db`): its commands are checked in turn.
            if help.stdout.contains("\nCommands:\n") {
                paths += Self.listed(help.stdout, under: "Commands:").map { path + [$0] }
                #expect(help.stdout.contains("-h, --help"), "\(name): no options")
                continue
            }
            let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let blank = lines.firstIndex(of: "") ?? lines.count
            #expect(blank + 1 < lines.count && !lines[blank + 1].isEmpty, "\(name): no description")
            #expect(help.stdout.contains("\nOptions:\n") && help.stdout.contains("-h, --help"), "\(name): no options")
            #expect(help.stdout.contains("\nGlobal Options:\n  --root"), "\(name): no global options")
            #expect(try Self.caisson(["help"] + path).stdout == help.stdout, "help \(name)")
            // -h is --hostname for run and create, as in docker.
            if path != ["run"] && path != ["create"] {
                #expect(try Self.caisson(path + ["-h"]).stdout == help.stdout, "\(name) -h")
            }
        }
    }

    @Test("run's usage is docker's")
    func runUsage() throws {
        let help = try Self.caisson(["run", "--help"])
        #expect(help.stdout.hasPrefix("Usage:  caisson run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a container\n"))
        #expect(help.stdout.contains("-d, --detach"))
        // A command shared by two places is shown as it was called.
        let pull = try Self.caisson(["image", "pull", "--help"])
        #expect(pull.stdout.hasPrefix("Usage:  caisson image pull [OPTIONS] NAME[:TAG|@DIGEST]\n"))
    }

    @Test("unknown commands are refused as docker refuses them")
    func unknownCommands() throws {
        let unknown = try Self.caisson(["frobnicate", "--all"])
        #expect(unknown.status == 125)
        #expect(unknown.stdout.isEmpty)
        #expect(unknown.stderr.hasPrefix("caisson: 'frobnicate' is not a caisson command.\nSee 'caisson --help'"))
        let nested = try Self.caisson(["network", "frobnicate"])
        #expect(nested.status == 125)
        #expect(nested.stderr.hasPrefix("caisson: 'network frobnicate' is not a caisson command."))
        let help = try Self.caisson(["help", "frobnicate"])
        #expect(help.status == 125)
        // A missing argument is a usage error naming the command's usage.
        let missing = try Self.caisson(["rm"])
        #expect(missing.status == 125)
        #expect(missing.stderr.contains("caisson rm [OPTIONS] CONTAINER [CONTAINER...]"))
    }
}
