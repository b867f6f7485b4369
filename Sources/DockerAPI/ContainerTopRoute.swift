import CaissonJSON
import Engine

/// `GET /containers/{id}/top?ps_args=...` (docker top): the engine's `top`, which runs the
/// host's ps (default `-ef`) and keeps the container's processes, as
/// `{"Titles": [...], "Processes": [[...], ...]}`; a container that does not run is a 409.
extension DockerAPI {
    func addContainerTopRoute(_ router: inout Router) {
        router.add(.GET, "/containers/{id}/top") { [self] request in
            let id = request.parameters["id"] ?? ""
            let arguments = request.string("ps_args").flatMap { $0.isEmpty ? nil : $0 } ?? "-ef"
            let table = try await blocking { try self.engine.top(id, psArguments: arguments) }
            var object = JSONObject()
            object.set("Titles", .strings(table.titles))
            object.set("Processes", .array(table.processes.map { .strings($0) }))
            return .json(object)
        }
    }
}
