import CaissonSys
import CLIFormatting

/// Which stopped containers `container prune` removes (docker's `until` and `label`
/// filters): created before `until`, carrying every `label` (KEY or KEY=VALUE) and none
/// of the `excludedLabels` (`label!=`).
public struct PruneFilter: Sendable {
    public var until: Int64?
    public var labels: [String] = []
    public var excludedLabels: [String] = []

    public init(until: Int64? = nil, labels: [String] = [], excludedLabels: [String] = []) {
        self.until = until
        self.labels = labels
        self.excludedLabels = excludedLabels
    }

    func matches(_ record: ContainerRecord) -> Bool {
        if let until, let created = Time.parseRFC3339(record.created), created >= until { return false }
        func has(_ label: String) -> Bool {
            let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
            guard let value = record.config.labels[parts[0]] else { return false }
            return parts.count == 1 || value == parts[1]
        }
        return labels.allSatisfy(has) && !excludedLabels.contains(where: has)
    }
}

extension ContainerEngine {
    /// Removes the containers that do not run and match `filter`; their ids and the bytes
    /// their writable layers held.
    public func pruneContainers(_ filter: PruneFilter = PruneFilter()) throws(EngineError) -> (removed: [String], bytes: Int64) {
        var removed: [String] = []
        var bytes: Int64 = 0
        for (record, state) in try list() where !state.isRunning && filter.matches(record) {
            let size = ContainerEngine.diskUsage(images.upperDirectory(ofRootfs: record.id))
            try remove(record.id, force: false)
            removed.append(record.id)
            bytes += size
        }
        return (removed, bytes)
    }
}
