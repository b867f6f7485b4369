/// docker's volume filters (`volume ls --filter`, and `label` for `volume prune`):
/// `name` (a regular expression found in the name, as Go's `regexp.MatchString`), `label` (KEY or KEY=VALUE, all must match), `label!`
/// (none may), `driver` (local), `dangling` (true: no container uses it). Unknown filters
/// are refused by name.
public struct VolumeFilter: Sendable {
    public static let listKeys: Set<String> = ["name", "label", "label!", "driver", "dangling"]
    private var values: [String: [String]] = [:]

    public init() {}

    public init(_ values: [String: [String]], allowed: Set<String> = VolumeFilter.listKeys) throws(EngineError) {
        for (key, items) in values {
            guard allowed.contains(key) else { throw .invalid("invalid filter '\(key)'") }
            if key == "dangling" {
                for item in items where !["true", "false", "1", "0"].contains(item.lowercased()) {
                    throw .invalid("invalid filter 'dangling=\(item)'")
                }
            }
        }
        self.values = values
    }

    /// Whether the filters ask whether containers use the volume.
    public var needsUse: Bool { values["dangling"] != nil }

    public func matches(_ volume: VolumeRecord, inUse: Bool) -> Bool {
        for (key, wanted) in values where !wanted.isEmpty {
            switch key {
            case "name": if !wanted.contains(where: { ContainerListFilter.found($0, in: volume.name) }) { return false }
            case "driver": if !wanted.contains(volume.driver) { return false }
            case "dangling":
                if !wanted.contains(where: { ["true", "1"].contains($0.lowercased()) == !inUse }) { return false }
            case "label", "label!":
                let hits = wanted.map { item -> Bool in
                    let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                    guard let value = volume.labels[parts[0]] else { return false }
                    return parts.count == 1 || value == parts[1]
                }
                if key == "label" ? hits.contains(false) : hits.contains(true) { return false }
            default: break
            }
        }
        return true
    }
}
