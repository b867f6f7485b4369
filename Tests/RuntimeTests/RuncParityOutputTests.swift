import Foundation
import Testing
import OCISpec

/// What callers parse from caisson-runtime's output, beside runc's for the same commands
/// (issue 11, item 20): `list` and `ps` in table and JSON form, `--version`, `--help`
/// and `help COMMAND`, unknown commands, and `--debug` logging. The runtime's own name
/// (and its ids, pids, bundle paths and times) are normalised before comparing.
@Suite(.serialized)
struct RuncParityOutputTests {
    /// The runtime's base name: "runc" or "caisson-runtime".
    static func name(_ driver: RuntimeDriver) -> String { (driver.executable as NSString).lastPathComponent }

    /// `text` with the runtime's name replaced by RUNTIME.
    static func normalised(_ text: String, _ driver: RuntimeDriver) -> String {
        text.replacingOccurrences(of: name(driver), with: "RUNTIME")
    }

    /// Go's time.RFC3339Nano in UTC: no trailing zero in the fraction.
    static func isGoTime(_ text: String) -> Bool {
        text.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z/) != nil
    }

    /// A running container (annotated, with characters Go escapes) and a stopped one,
    /// under the driver's root; returns their ids and bundles.
    static func twoContainers(_ driver: RuntimeDriver) throws -> [(id: String, bundle: BusyboxBundle)] {
        var running = try BusyboxBundle(args: ["sleep", "100"])
        running.spec.annotations = ["b.key": "x<y&z>", "a.key": "1"]
        let first = try driver.runDetached(running, prefix: "out-a")
        let stopped = try BusyboxBundle(args: ["true"])
        let second = try driver.runDetached(stopped, prefix: "out-b")
        for _ in 0..<200 where try driver.status(second) != "stopped" { usleep(10_000) }
        return [(first, running), (second, stopped)]
    }

    /// Replaces ids, bundles and pids of `containers` with placeholders.
    static func placeholders(_ text: String, _ containers: [(id: String, bundle: BusyboxBundle)]) -> String {
        var text = text
        for (index, container) in containers.enumerated() {
            text = text.replacingOccurrences(of: container.bundle.directory, with: "BUNDLE\(index)")
                .replacingOccurrences(of: container.id, with: "ID\(index)")
        }
        return text
    }

    /// `list --format json`: one compact line in runc's field order (annotations sorted
    /// and HTML-escaped, the stopped container's pid 0), `null` with no container.
    @Test func listJSONIsRuncs() throws {
        let seen = try RuncParityTests.compare { driver in
            var observed = ["empty: \(try driver.run(["list", "--format", "json"]).stdout.debugDescription)"]
            let containers = try Self.twoContainers(driver)
            defer { containers.forEach { driver.forceDelete($0.id) } }
            let listed = try driver.run(["list", "-f", "json"])
            var text = Self.placeholders(listed.stdout, containers)
            let times = text.matches(of: /"created":"([^"]*)"/).map { String($0.1) }
            observed.append("times are Go's: \(times.count == 2 && times.allSatisfy(Self.isGoTime))")
            text = text.replacing(/"created":"[^"]*"/, with: "\"created\":\"TIME\"")
                .replacing(/"ociVersion":"[^"]*"/, with: "\"ociVersion\":\"V\"")
                .replacing(/"pid":[1-9]\d*/, with: "\"pid\":PID")
            observed += ["status \(listed.status)", text]
            return observed
        }
        #expect(seen["caisson-runtime"]?.first == "empty: \"null\\n\"")
        RuncParityTests.expectSameAsRunc(seen)
    }

    /// Go's tabwriter layout with runc's settings (min width 12, padding 3), for checking.
    static func tabwriterLayout(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 12, count: rows.first?.count ?? 0)
        for row in rows { for (index, cell) in row.enumerated().dropLast() { widths[index] = max(widths[index], cell.count + 3) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }

    /// `list` (table) and `list -q`: runc's header, columns and times (RFC 3339 with the
    /// fraction's trailing zeros dropped), the owner, pid 0 once stopped; runc's error
    /// for a format that is neither table nor json.
    @Test func listTableIsRuncs() throws {
        let seen = try RuncParityTests.compare { driver in
            var observed = ["empty: \(try driver.run(["list"]).stdout.debugDescription)",
                            "empty -q: \(try driver.run(["list", "-q"]).stdout.debugDescription)"]
            let containers = try Self.twoContainers(driver)
            defer { containers.forEach { driver.forceDelete($0.id) } }
            let table = try driver.run(["list"])
            let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            observed.append("layout is tabwriter's: \(Self.tabwriterLayout(rows) == table.stdout)")
            for row in rows.dropFirst() where row.count == 6 {
                observed.append("time is Go's: \(Self.isGoTime(row[4]))")
                observed.append(Self.placeholders([row[0], row[1] == "0" ? "0" : "PID", row[2], row[3], row[5]]
                    .joined(separator: " "), containers))
            }
            observed.append(rows.first?.joined(separator: " ") ?? "")
            observed.append(Self.placeholders(try driver.run(["list", "-q"]).stdout, containers))
            let badFormat = try driver.run(["list", "--format", "yaml"])
            observed.append("bad format \(badFormat.status): \(badFormat.stderr.contains("invalid format option"))")
            return observed
        }
        #expect(seen["caisson-runtime"]?.contains("time is Go's: false") == false)
        #expect(seen["caisson-runtime"]?.last == "bad format 1: true")
        RuncParityTests.expectSameAsRunc(seen)
    }

    /// `ps --format json`: `[PID,PID]` on one line; `null` for a stopped container.
    @Test func psJSONIsRuncs() throws {
        let seen = try RuncParityTests.compare { driver in
            let running = try driver.runDetached(try BusyboxBundle(args: ["sh", "-c", "sleep 100 & sleep 100"]), prefix: "psj")
            defer { driver.forceDelete(running) }
            var output = ""
            for _ in 0..<200 {
                output = try driver.run(["ps", "--format", "json", running]).stdout
                if output.filter({ $0 == "," }).count == 1 { break }
                usleep(10_000)
            }
            let stopped = try driver.runDetached(try BusyboxBundle(args: ["true"]), prefix: "psj-stopped")
            defer { driver.forceDelete(stopped) }
            for _ in 0..<200 where try driver.status(stopped) != "stopped" { usleep(10_000) }
            let none = try driver.run(["ps", "-f", "json", stopped])
            return [output.replacing(/\d+/, with: "N").debugDescription, "stopped: \(none.status) \(none.stdout.debugDescription)"]
        }
        #expect(seen["caisson-runtime"] == ["\"[N,N]\\n\"", "stopped: 0 \"null\\n\""])
        RuncParityTests.expectSameAsRunc(seen)
    }

    /// `ps ID [ps options]`: ps(1)'s header and the container's lines; the words after the
    /// id go to ps unchanged (`--` included, which procps refuses: runc reports ps's
    /// combined output after "exit status 1: "); no PID column is runc's error.
    @Test func psTableIsRuncs() throws {
        let seen = try RuncParityTests.compare { driver in
            let id = try driver.runDetached(try BusyboxBundle(args: ["sleep", "100"]), prefix: "pst")
            defer { driver.forceDelete(id) }
            let table = try driver.run(["ps", id])
            let lines = table.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let custom = try driver.run(["ps", id, "-o", "pid,args"])
            let noPid = try driver.run(["ps", id, "-o", "comm"])
            let dashes = try driver.run(["ps", id, "--", "-o", "pid"])
            let badFormat = try driver.run(["ps", "--format", "yaml", id])
            return [
                "table \(table.status): \(lines.first ?? "") + \(lines.count - 2) line(s), ends with newline \(lines.last == "")",
                "custom \(custom.status): \(custom.stdout.replacing(/\d+ sleep/, with: "N sleep").debugDescription)",
                "no PID \(noPid.status): \(noPid.stderr.contains("couldn't find PID field in ps output"))",
                "-- \(dashes.status): \(dashes.stdout.isEmpty) \(dashes.stderr.contains("exit status 1: error: garbage option"))",
                "bad format \(badFormat.status): \(badFormat.stderr.contains("invalid format option"))",
            ]
        }
        #expect(seen["caisson-runtime"]?.allSatisfy { !$0.hasSuffix("false") } == true)
        RuncParityTests.expectSameAsRunc(seen)
    }

    /// `--version` and `-v`: "NAME version X" then `key: value` lines as runc has them
    /// (commit when known, spec, the toolchain (go, or swift here), libseccomp).
    @Test func versionIsRuncsShape() throws {
        let seen = try RuncParityTests.compare { driver in
            let long = try driver.run(["--version"])
            let short = try driver.run(["-v"])
            var lines = Self.normalised(long.stdout, driver).split(separator: "\n").map(String.init)
            let first = lines.isEmpty ? "" : lines.removeFirst()
            let keys = lines.compactMap { $0.firstMatch(of: /^([a-z]+): \S+$/).map { String($0.1) } }
                .filter { $0 != "commit" }.map { $0 == "go" || $0 == "swift" ? "toolchain" : $0 }
            return ["status \(long.status) \(short.status)", "-v same: \(short.stdout == long.stdout)",
                    "first line: \(first.wholeMatch(of: /RUNTIME version \S+/) != nil)",
                    "every line key: value: \(keys.count == lines.filter { !$0.hasPrefix("commit: ") }.count)",
                    "keys: \(keys)", "ends with newline: \(long.stdout.hasSuffix("\n"))"]
        }
        let version = try Shell.run(RuntimeDriver.binary, ["--version"]).stdout
        #expect(version.hasPrefix("caisson-runtime version 0.1.0\n"))
        #expect(version.contains("\nspec: \(Spec.version)\n"))
        RuncParityTests.expectSameAsRunc(seen)
    }

    /// The headers of help text: lines that are a capitalised word (or two) and a colon.
    static func sections(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.wholeMatch(of: /[A-Z]+( [A-Z]+)?:/) != nil }
    }

    /// The flag names of help's option lines ("   --name value, -n value  text").
    static func flagNames(_ text: String, section: String) -> [String] {
        guard let start = text.range(of: "\n\(section):\n") else { return [] }
        // Filtered, not cut at the first other line: a flag's text may run over lines.
        return text[start.upperBound...].split(separator: "\n").filter { $0.hasPrefix("   -") }.map { line in
            let names = line.dropFirst(3).components(separatedBy: "  ")[0]
            return names.components(separatedBy: ", ").map { $0.replacingOccurrences(of: " value", with: "") }
                .joined(separator: ",")
        }
    }

    /// The commands of the program's help ("   name, alias  summary").
    static func commandNames(_ text: String) -> [String] {
        guard let start = text.range(of: "\nCOMMANDS:\n") else { return [] }
        return text[start.upperBound...].split(separator: "\n").prefix { $0.hasPrefix("   ") }
            .map { $0.dropFirst(3).components(separatedBy: "  ")[0] }
    }

    /// `--help`, `help`, `h` and no arguments: the program's help in runc's shape (NAME,
    /// USAGE, VERSION with --version's lines, COMMANDS, GLOBAL OPTIONS), exit status 0.
    @Test func applicationHelpIsRuncsShape() throws {
        let seen = try RuncParityTests.compare { driver in
            let help = try driver.run(["--help"])
            let others = try [["help"], ["h"], []].map { try driver.run($0) }
            let text = Self.normalised(help.stdout, driver)
            let version = Self.normalised(try driver.run(["--version"]).stdout, driver)
                .replacingOccurrences(of: "RUNTIME version ", with: "")
            let usage = text.firstMatch(of: /\nUSAGE:\n([^\n]*)\n/).map { String($0.1) } ?? ""
            return [
                "status \(help.status) \(others.map(\.status))",
                "all the same: \(others.allSatisfy { $0.stdout == help.stdout })",
                "name: \(text.hasPrefix("NAME:\n   RUNTIME - "))",
                "sections: \(Self.sections(text))", "usage: \(usage)",
                "version section: \(text.contains("\nVERSION:\n   \(version)\n"))",
                "commands: \(Self.commandNames(text))",
                "global options: \(Self.flagNames(text, section: "GLOBAL OPTIONS"))",
            ]
        }
        RuncParityTests.expectSameAsRunc(seen)
    }

    static let runcCommands = ["checkpoint", "create", "delete", "events", "exec", "kill", "list", "pause", "ps",
                               "restore", "resume", "run", "spec", "start", "state", "update", "features"]

    /// The flags a runtime refuses as unknown, among `flags` of `command`: each is
    /// passed alone (a value flag with a path that does not exist) without a container.
    static func refused(_ driver: RuntimeDriver, command: String, flags: [String], valued: Set<String>) throws -> [String] {
        try flags.filter { flag in
            let name = flag.components(separatedBy: ",")[0]
            var arguments = [command, name] + (valued.contains(flag) ? ["/nonexistent-parity"] : [])
            if command == "spec" { arguments += ["--bundle", "/nonexistent-parity"] }
            let stderr = try driver.run(arguments, timeout: 20).stderr
            return stderr.contains("flag provided but not defined") || stderr.contains("unknown flag")
        }
    }

    /// `COMMAND --help` and `help COMMAND`: the same text in runc's shape (NAME "RUNTIME
    /// COMMAND - summary", USAGE, DESCRIPTION where runc has one, OPTIONS), listing every
    /// flag the command accepts (runc's, less checkpoint/restore's, which caisson-runtime
    /// refuses as a whole, plus update's kernel-memory flags, which runc hides) and none
    /// that it refuses.
    @Test func commandHelpIsRuncsShape() throws {
        let accepted = ["update": ["--kernel-memory", "--kernel-memory-tcp"]]
        let seen = try RuncParityTests.compare { driver in
            var observed: [String] = []
            for command in Self.runcCommands {
                let help = try driver.run([command, "--help"])
                let topic = try driver.run(["help", command])
                let text = Self.normalised(help.stdout, driver)
                var flags = Self.flagNames(text, section: "OPTIONS")
                let valued = Set(text.split(separator: "\n").filter { $0.hasPrefix("   -") && $0.contains(" value") }
                    .map { $0.dropFirst(3).components(separatedBy: "  ")[0].components(separatedBy: ", ")
                        .map { $0.replacingOccurrences(of: " value", with: "") }.joined(separator: ",") })
                let refused = try Self.refused(driver, command: command, flags: flags, valued: valued)
                var sections = Self.sections(text).filter { ["NAME:", "USAGE:", "DESCRIPTION:", "OPTIONS:"].contains($0) }
                if Self.name(driver) == "runc" {
                    if command == "checkpoint" || command == "restore" { flags = []; sections.removeAll { $0 == "OPTIONS:" } }
                    flags += accepted[command] ?? []
                }
                observed.append("\(command): status \(help.status) \(topic.status), same \(help.stdout == topic.stdout), "
                    + "name \(text.hasPrefix("NAME:\n   RUNTIME \(command) - ")), sections \(sections), "
                    + "options end \(flags.isEmpty || text.hasSuffix("\n   \n")), flags \(flags.sorted()), refused \(refused)")
            }
            return observed
        }
        RuncParityTests.expectSameAsRunc(seen)
    }

    /// An unknown command, with or without `help` or `--help`: runc's message and exit
    /// status 3, nothing on stdout.
    @Test func unknownCommandIsRuncs() throws {
        let seen = try RuncParityTests.compare { driver in
            try [["nosuch"], ["help", "nosuch"], ["nosuch", "--help"]].map { arguments in
                let ran = try driver.run(arguments)
                return "\(arguments): \(ran.status) \(ran.stdout.isEmpty) \(ran.stderr.contains("No help topic for 'nosuch'"))"
            }
        }
        #expect(seen["caisson-runtime"]?.allSatisfy { $0.hasSuffix(": 3 true true") } == true)
        RuncParityTests.expectSameAsRunc(seen)
    }

    /// The log lines of `file` (or of `text`), each checked for the format asked.
    static func logLines(_ text: String, json: Bool) -> (levels: [String], wellFormed: Bool) {
        var levels: [String] = []
        var wellFormed = true
        for line in text.split(separator: "\n") {
            if json {
                let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                let level = object?["level"] as? String
                if level == nil || object?["msg"] as? String == nil || object?["time"] as? String == nil { wellFormed = false }
                levels.append(level ?? "?")
            } else if let match = line.firstMatch(of: /^time="[^"]+" level=([a-z]+) msg=/) {
                levels.append(String(match.1))
            } else {
                wellFormed = false
            }
        }
        return (levels, wellFormed)
    }

    /// `--debug` logs the stages of `run` and `exec` at debug level (to --log in text or
    /// JSON lines, or to stderr without --log); without --debug there is no debug line
    /// and nothing on stderr; a `--debug create` still returns to a caller capturing its
    /// output.
    @Test func debugLogsTheSetUpStages() throws {
        let seen = try RuncParityTests.compare { driver in
            var observed: [String] = []
            for format in ["json", "text"] {
                let log = try Scratch.directory("debuglog") + "/log"
                let id = Scratch.uniqueID("dbg")
                let bundle = try BusyboxBundle(args: ["sleep", "100"])
                try bundle.write()
                defer { driver.forceDelete(id) }
                let ran = try driver.run(["--debug", "--log", log, "--log-format", format, "run", "-d", "--bundle", bundle.directory, id])
                let runLines = Self.logLines((try? String(contentsOfFile: log, encoding: .utf8)) ?? "", json: format == "json")
                try "".write(toFile: log, atomically: false, encoding: .utf8)
                let exec = try driver.run(["--debug", "--log", log, "--log-format", format, "exec", id, "true"])
                let execLines = Self.logLines((try? String(contentsOfFile: log, encoding: .utf8)) ?? "", json: format == "json")
                observed.append("\(format): run \(ran.status) stderr empty \(ran.stderr.isEmpty) well-formed \(runLines.wellFormed) "
                    + "many debug lines \(runLines.levels.filter { $0 == "debug" }.count >= 10); exec \(exec.status) "
                    + "well-formed \(execLines.wellFormed) debug lines \(execLines.levels.filter { $0 == "debug" }.count >= 5)")
            }
            // Without --debug: no debug line in the log, nothing on stderr.
            let log = try Scratch.directory("quietlog") + "/log"
            let bundle = try BusyboxBundle(args: ["sleep", "100"])
            try bundle.write()
            let id = Scratch.uniqueID("quiet")
            defer { driver.forceDelete(id) }
            let quiet = try driver.run(["--log", log, "run", "-d", "--bundle", bundle.directory, id])
            let quietExec = try driver.run(["--log", log, "exec", id, "true"])
            let quietLines = Self.logLines((try? String(contentsOfFile: log, encoding: .utf8)) ?? "", json: false)
            observed.append("quiet: \(quiet.status) \(quietExec.status) stderr \(quiet.stderr + quietExec.stderr) "
                + "debug lines \(quietLines.levels.filter { $0 == "debug" }.count)")
            // --debug without --log: text lines on stderr, stdout untouched.
            let toStderr = try driver.run(["--debug", "exec", id, "echo", "out"])
            let stderrLines = Self.logLines(toStderr.stderr, json: false)
            observed.append("stderr: \(toStderr.status) stdout \(toStderr.stdout.debugDescription) "
                + "well-formed \(stderrLines.wellFormed) debug lines \(stderrLines.levels.filter { $0 == "debug" }.count >= 5)")
            // A capturing caller of `--debug create --console-socket` gets its answer at once.
            let terminalBundle = try BusyboxBundle(args: ["true"], terminal: true)
            try terminalBundle.write()
            let socketPath = try Scratch.directory("dbgconsole") + "/console.sock"
            let listener = try ConsoleListener(path: socketPath)
            let created = Scratch.uniqueID("dbgcreate")
            defer { driver.forceDelete(created) }
            let create = "\(driver.executable) --root \(driver.root) --debug create --console-socket \(socketPath) "
                + "--bundle \(terminalBundle.directory) \(created)"
            let captured = try? Shell.run("/bin/sh", ["-c", "out=$(\(create) 2>&1); echo \"status $?\""], timeout: 15)
            if captured != nil { close(try listener.acceptMaster()) }
            observed.append("create captured: \(captured?.stdout ?? "timed out")")
            return observed
        }
        #expect(seen["caisson-runtime"]?.allSatisfy { !$0.contains("false") && !$0.contains("timed out") } == true)
        RuncParityTests.expectSameAsRunc(seen)
    }
}
