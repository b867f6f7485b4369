import CLIFormatting

/// `network prune`: the user-made networks that no container refers to, filtered as
/// docker filters them (`until`, `label`, `label!`); the default network stays.
extension ContainerEngine {
    public func pruneNetworks(_ filter: PruneFilter = PruneFilter()) throws(EngineError) -> [String] {
        let containers = try store.containers()
        var removed: [String] = []
        for network in try store.networks() where network.name != ContainerEngine.defaultNetwork {
            guard filter.matches(created: network.created, labels: network.labels) else { continue }
            if containers.contains(where: { $0.allNetworks.contains { $0.name == network.name } }) { continue }
            do { try removeNetwork(network.name) } catch .networkInUse { continue }
            removed.append(network.name)
        }
        return removed
    }
}

extension PruneFilter {
    /// Whether something created at `created` (RFC 3339) with `labels` is to be pruned.
    func matches(created: String, labels recorded: [String: String]) -> Bool {
        if let until, let time = Time.parseRFC3339(created), time >= until { return false }
        func has(_ label: String) -> Bool {
            let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
            guard let value = recorded[parts[0]] else { return false }
            return parts.count == 1 || value == parts[1]
        }
        return labels.allSatisfy(has) && !excludedLabels.contains(where: has)
    }
}
