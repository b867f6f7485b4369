import CaissonJSON
import ContainerHealth
import Engine

/// `GET /containers/json`'s `filters` ({"status":["running"],"name":["web"]}): every
/// named filter must match, any of a filter's values may (as docker filters).
struct ContainerFilters: Sendable {
    var values: [String: [String]] = [:]

    var isEmpty: Bool { values.isEmpty }

    init(_ text: String?) throws(DockerAPIError) {
        guard let text, !text.isEmpty else { return }
        guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else {
            throw .badParameter("invalid filters: \(text)")
        }
        for key in object.keys {
            guard ["status", "name", "id", "label", "health"].contains(key) else { throw .badParameter("invalid filter '\(key)'") }
            switch object[key] {
            case .array(let items)?: values[key] = items.compactMap { if case .string(let s) = $0 { return s }; return nil }
            case .object(let map)?: values[key] = map.keys  // the old form: {"name": {"web": true}}
            default: throw .badParameter("invalid filter '\(key)'")
            }
        }
        for value in values["health"] ?? [] where !HealthStatus.filterValues.contains(value) {
            throw .badParameter("invalid filter 'health=\(value)': invalid value for health (\(value)): must be one of \(HealthStatus.filterValues.joined(separator: ", "))")
        }
    }

    func matches(_ record: ContainerRecord, _ state: ContainerState) -> Bool {
        for (key, wanted) in values where !wanted.isEmpty {
            let ok: Bool
            switch key {
            case "status": ok = wanted.contains(state.status.rawValue)
            case "name": ok = wanted.contains { record.name.contains($0.hasPrefix("/") ? String($0.dropFirst()) : $0) }
            case "id": ok = wanted.contains { record.id.hasPrefix($0) }
            case "health": ok = wanted.contains(state.health?.status.rawValue ?? "none")
            default:
                ok = wanted.allSatisfy { item in
                    let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                    guard let value = record.config.labels[parts[0]] else { return false }
                    return parts.count == 1 || value == parts[1]
                }
            }
            if !ok { return false }
        }
        return true
    }
}
