/// docker's network filters (`network ls --filter`, `GET /networks?filters=`), as dockerd
/// applies them: `name` and `id` are regular expressions found anywhere (Go's
/// `regexp.MatchString`), `driver` and `scope` exact, `label` KEY or KEY=VALUE (all must
/// match), `type` `builtin` (bridge, host, none) or `custom`, `dangling=true` the custom
/// networks no container is on (`false`: the others). Each filter's values are
/// alternatives; every filter given must match. Unknown filters are refused by name.
public struct NetworkFilter: Sendable {
    public static let keys: Set<String> = ["driver", "type", "name", "id", "label", "scope", "dangling"]
    private let values: [String: [String]]

    /// What a filter looks at in one network.
    public struct Candidate: Sendable {
        public var name: String
        public var id: String
        public var driver: String
        public var labels: [String: String]
        public var inUse: Bool

        public init(name: String, id: String, driver: String, labels: [String: String], inUse: Bool) {
            self.name = name
            self.id = id
            self.driver = driver
            self.labels = labels
            self.inUse = inUse
        }

        /// docker's predefined networks.
        var isBuiltin: Bool { [ContainerEngine.defaultNetwork, "host", "none"].contains(name) }
    }

    public init(_ values: [String: [String]]) throws(EngineError) {
        for (key, items) in values {
            guard NetworkFilter.keys.contains(key) else { throw .invalid("Invalid filter '\(key)'") }
            for item in items {
                if key == "type", !["custom", "builtin"].contains(item) { throw .invalid("invalid filter: 'type'='\(item)'") }
                if key == "dangling", !["true", "false", "1", "0"].contains(item.lowercased()) {
                    throw .invalid("invalid filter 'dangling=\(item)'")
                }
            }
        }
        self.values = values
    }

    public func matches(_ network: Candidate) -> Bool {
        for (key, wanted) in values where !wanted.isEmpty {
            let hit: Bool
            switch key {
            case "name": hit = wanted.contains { ContainerListFilter.found($0, in: network.name) }
            case "id": hit = wanted.contains { ContainerListFilter.found($0, in: network.id) }
            case "driver": hit = wanted.contains(network.driver)
            case "scope": hit = wanted.contains("local")
            case "type": hit = wanted.contains(network.isBuiltin ? "builtin" : "custom")
            case "dangling":
                hit = wanted.contains { ["true", "1"].contains($0.lowercased()) == (!network.isBuiltin && !network.inUse) }
            case "label":
                hit = wanted.allSatisfy { item in
                    let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                    guard let value = network.labels[parts[0]] else { return false }
                    return parts.count == 1 || value == parts[1]
                }
            default: hit = true
            }
            if !hit { return false }
        }
        return true
    }
}
