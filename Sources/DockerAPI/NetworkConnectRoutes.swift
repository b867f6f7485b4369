import CaissonJSON
import Engine

/// `POST /networks/{id}/connect` (`{"Container", "EndpointConfig": {"Aliases", ...}}`),
/// `POST /networks/{id}/disconnect` (`{"Container", "Force"}`) over the engine's
/// `connect`/`disconnect` (a further interface in the container's namespace, at once or
/// at its next start), and `POST /networks/prune?filters=` (`until`, `label`, `label!`)
/// answering `{"NetworksDeleted": [...]}`. Endpoint settings the engine does not carry
/// out (static addresses, links, MAC addresses, driver options) are refused by name when
/// set; the zero values the docker CLI always sends are accepted.
extension DockerAPI {
    func addNetworkConnectRoutes(_ router: inout Router) {
        router.add(.POST, "/networks/{id}/connect") { [self] request in
            let network = request.parameters["id"] ?? ""
            let body = try JSONBody(parsing: request.body)
            try body.refuseFields(except: ["Container", "EndpointConfig"])
            guard let container = try body.string("Container"), !container.isEmpty else {
                throw DockerAPIError.badParameter("invalid field Container: a container is required")
            }
            var aliases: [String] = []
            if let endpoint = try body.object("EndpointConfig") {
                try endpoint.refuseFields(except: NetworkingRequest.endpointFields.union(["Links", "MacAddress", "DriverOpts", "GwPriority"]))
                for key in ["Links", "MacAddress", "DriverOpts", "GwPriority"] where DockerAPI.isSetNonZero(endpoint.object[key]) {
                    throw DockerAPIError.badParameter("invalid field EndpointConfig.\(key): not supported by Caisson's API yet")
                }
                if let ipam = try endpoint.object("IPAMConfig") {
                    for key in ipam.object.keys where DockerAPI.isSetNonZero(ipam.object[key]) {
                        throw DockerAPIError.badParameter("invalid field EndpointConfig.IPAMConfig.\(key): not supported by Caisson's API yet")
                    }
                }
                aliases = try endpoint.strings("Aliases") ?? []
            }
            let wanted = aliases
            do {
                try await blocking { try self.engine.connect(container, to: network, aliases: wanted) }
            } catch EngineError.invalidSetting(.networkAlias, let message) {
                throw DockerAPIError.badParameter("invalid field EndpointConfig.Aliases: \(message)")
            }
            return APIResponse(status: .ok)
        }
        router.add(.POST, "/networks/{id}/disconnect") { [self] request in
            let network = request.parameters["id"] ?? ""
            let body = try JSONBody(parsing: request.body)
            try body.refuseFields(except: ["Container", "Force"])
            guard let container = try body.string("Container"), !container.isEmpty else {
                throw DockerAPIError.badParameter("invalid field Container: a container is required")
            }
            try await blocking { try self.engine.disconnect(container, from: network) }
            return APIResponse(status: .ok)
        }
        router.add(.POST, "/networks/prune") { [self] request in
            let filter = try DockerAPI.pruneFilter(request.string("filters"))
            let removed = try await blocking { try self.engine.pruneNetworks(filter) }
            var object = JSONObject()
            object.set("NetworksDeleted", .strings(removed))
            return .json(object)
        }
    }

    /// Whether a JSON value is more than the zero value Go's encoder writes for it.
    static func isSetNonZero(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?: return false
        case .string(let text)?: return !text.isEmpty
        case .number(let text)?: return Double(text) != 0
        case .bool(let flag)?: return flag
        case .array(let items)?: return !items.isEmpty
        case .object(let object)?: return !object.keys.isEmpty
        }
    }
}
