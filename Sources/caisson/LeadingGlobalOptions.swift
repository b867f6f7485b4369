/// `caisson --root DIR ps` as podman takes it: the options every command has (`--root`,
/// `--runroot`, `--registries-conf`, `--authfile`, `--storage-driver`), given before the
/// command, are moved after its name (after the group's subcommand for `network ls`), where
/// the commands parse them. Anything else before the command is left for the parser to
/// refuse; with no command after them, the answer is `caisson`'s alone.
enum LeadingGlobalOptions {
    static let names: Set<String> = ["--root", "--runroot", "--registries-conf", "--authfile", "--storage-driver"]

    static func moved(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if let equals = word.firstIndex(of: "="), names.contains(String(word[..<equals])) {
                leading.append(word)
                index += 1
            } else if names.contains(word), index + 1 < arguments.count {
                leading += [word, arguments[index + 1]]
                index += 2
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        let rest = Array(arguments[index...])
        // The longest run of command names (`scan IMAGE` is the scan group and an image).
        var commandWords = 0
        while commandWords < rest.count, let path = Help.resolve(Array(rest[...commandWords]), strict: false),
              path.count == commandWords + 1 {
            commandWords += 1
        }
        // No command at all: what `caisson` alone answers. An unknown one: refused by its name.
        if rest.isEmpty { return [] }
        if commandWords == 0, !rest[0].hasPrefix("-") { commandWords = 1 }
        return Array(rest[..<commandWords]) + leading + Array(rest[commandWords...])
    }
}
