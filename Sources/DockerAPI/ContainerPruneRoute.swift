#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import Engine

/// `POST /containers/prune?filters=...` (docker container prune): the stopped containers
/// the engine's `pruneContainers` removes, filtered by `until` (a timestamp or a duration
/// before now) and `label`/`label!` (KEY or KEY=VALUE), as
/// `{"ContainersDeleted": [...], "SpaceReclaimed": N}`.
extension DockerAPI {
    func addContainerPruneRoute(_ router: inout Router) {
        router.add(.POST, "/containers/prune") { [self] request in
            let filter = try DockerAPI.pruneFilter(request.string("filters"))
            let result = try await blocking { try self.engine.pruneContainers(filter) }
            var object = JSONObject()
            object.set("ContainersDeleted", .strings(result.removed))
            object.set("SpaceReclaimed", .int(result.bytes))
            return .json(object)
        }
    }

    static func pruneFilter(_ text: String?) throws(DockerAPIError) -> PruneFilter {
        var filter = PruneFilter()
        guard let text, !text.isEmpty else { return filter }
        guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else {
            throw .badParameter("invalid filters: \(text)")
        }
        for key in object.keys {
            let values: [String]
            switch object[key] {
            case .array(let items)?: values = items.compactMap { if case .string(let s) = $0 { return s }; return nil }
            case .object(let map)?: values = map.keys
            default: throw .badParameter("invalid filter '\(key)'")
            }
            switch key {
            case "until":
                guard values.count == 1, let epoch = TimeExpression.epoch(values[0], now: Int64(time(nil))) else {
                    throw .badParameter("invalid filter 'until=\(values.joined(separator: ","))': expected one timestamp or duration")
                }
                filter.until = epoch
            case "label": filter.labels += values
            case "label!": filter.excludedLabels += values
            default: throw .badParameter("invalid filter '\(key)'")
            }
        }
        return filter
    }
}
