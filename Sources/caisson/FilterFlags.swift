/// `--filter KEY=VALUE` flags (repeatable) as each filter's values, the form the engine's
/// filters (`ContainerListFilter`, `VolumeFilter`) take, as the API's `filters` gives them.
enum FilterFlags {
    static func values(_ items: [String]) throws(CLIError) -> [String: [String]] {
        var values: [String: [String]] = [:]
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw .usage("bad format of filter (expected name=value): \(item)") }
            values[parts[0], default: []].append(parts[1])
        }
        return values
    }
}
