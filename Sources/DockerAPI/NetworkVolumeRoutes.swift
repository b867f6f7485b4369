import CaissonJSON
import Engine

/// The network and volume endpoints on the engine's networks (bridge networks through the
/// CNI plugins) and named volumes: the ones `caisson network` and `caisson volume` manage.
/// What the engine cannot do (other drivers, internal networks, IPv6, driver options) is
/// refused by name rather than ignored.
extension DockerAPI {
    func addNetworkRoutes(_ router: inout Router) {
        router.add(.GET, "/networks") { [self] request in
            let filter = try NetworkFilter(try FilterQuery.values(request.string("filters")))
            return .json(.array(try await blocking { () throws -> [JSONValue] in
                _ = try self.engine.network(named: ContainerEngine.defaultNetwork)
                var documents: [JSONValue] = []
                for network in try self.engine.store.networks() {
                    let document = try self.engine.networkDocument(network)
                    let inUse = document["Containers"].map { if case .object(let entries) = $0 { return !entries.keys.isEmpty }; return false } ?? false
                    guard filter.matches(.init(name: network.name, id: network.id, driver: network.driver, labels: network.labels,
                                               inUse: inUse)) else { continue }
                    documents.append(.object(document))
                }
                for name in ["host", "none"] where filter.matches(.init(name: name, id: name, driver: name == "none" ? "null" : name,
                                                                         labels: [:], inUse: false)) {
                    documents.append(.object(ContainerEngine.builtinNetworkDocument(name)))
                }
                return documents
            }))
        }
        router.add(.GET, "/networks/{id}") { [self] request in
            let id = request.parameters["id"] ?? ""
            if id == "host" || id == "none" { return .json(ContainerEngine.builtinNetworkDocument(id)) }
            return .json(try await blocking { try self.engine.networkDocument(try self.engine.network(named: id)) })
        }
        router.add(.POST, "/networks/create") { [self] request in
            let body = try JSONBody(parsing: request.body)
            guard let name = try body.string("Name"), !name.isEmpty else {
                throw DockerAPIError.badParameter("invalid field Name: a network name is required")
            }
            if let driver = try body.string("Driver"), !driver.isEmpty, driver != "bridge" {
                throw DockerAPIError.badParameter("invalid field Driver: \(driver) is not supported (bridge is)")
            }
            // Attachable is swarm's; every network of a local engine can take containers.
            for key in ["Internal", "EnableIPv6", "Options", "Ingress", "ConfigFrom", "Scope"] where body.isSet(key) {
                if key == "Scope", try body.string("Scope") == "local" { continue }
                throw DockerAPIError.badParameter("invalid field \(key): not supported by Caisson's API yet")
            }
            var subnet: String?
            if let ipam = try body.object("IPAM") {
                if let driver = try ipam.string("Driver"), !driver.isEmpty, driver != "default" {
                    throw DockerAPIError.badParameter("invalid field IPAM.Driver: \(driver) is not supported (default is)")
                }
                if case .array(let configs)? = ipam.object["Config"] {
                    guard configs.count <= 1 else { throw DockerAPIError.badParameter("invalid field IPAM.Config: one subnet at most") }
                    if case .object(let config)? = configs.first {
                        let entry = JSONBody(object: config, prefix: "IPAM.Config.")
                        subnet = try entry.string("Subnet")
                        for key in ["IPRange", "Gateway", "AuxiliaryAddresses"] where entry.isSet(key) {
                            throw DockerAPIError.badParameter("invalid field IPAM.Config.\(key): not supported by Caisson's API yet")
                        }
                    }
                }
            }
            let labels = try body.stringMap("Labels") ?? [:]
            let requested = subnet
            let made = try await blocking { try self.engine.createNetwork(name: name, subnet: requested, labels: labels) }
            var answer = JSONObject()
            answer.set("Id", .string(made.id))
            answer.set("Warning", .string(""))
            return .json(answer, status: .created)
        }
        router.add(.DELETE, "/networks/{id}") { [self] request in
            let id = request.parameters["id"] ?? ""
            try await blocking { try self.engine.removeNetwork(id) }
            return .noContent()
        }
    }

    func addVolumeRoutes(_ router: inout Router) {
        router.add(.GET, "/volumes") { [self] request in
            let filter = try VolumeFilter(try FilterQuery.values(request.string("filters")))
            let volumes = try await blocking {
                try self.engine.store.volumes().filter { volume in
                    filter.matches(volume, inUse: filter.needsUse ? try self.engine.volumeInUse(volume.name) : false)
                }
            }
            var answer = JSONObject()
            answer.set("Volumes", .array(volumes.map { .object(ContainerEngine.volumeDocument($0)) }))
            answer.set("Warnings", .array([]))
            return .json(answer)
        }
        router.add(.GET, "/volumes/{name}") { [self] request in
            let name = request.parameters["name"] ?? ""
            return .json(ContainerEngine.volumeDocument(try await blocking { try self.engine.volume(named: name) }))
        }
        router.add(.POST, "/volumes/create") { [self] request in
            let body = try JSONBody(parsing: request.body)
            if let driver = try body.string("Driver"), !driver.isEmpty, driver != "local" {
                throw DockerAPIError.badParameter("invalid field Driver: \(driver) is not supported (local is)")
            }
            if body.isSet("DriverOpts") {
                throw DockerAPIError.badParameter("invalid field DriverOpts: not supported by Caisson's API yet")
            }
            let name = try body.string("Name").flatMap { $0.isEmpty ? nil : $0 } ?? ContainerEngine.randomID()
            let labels = try body.stringMap("Labels") ?? [:]
            let volume = try await blocking { try self.engine.ensureVolume(name, labels: labels) }
            return .json(ContainerEngine.volumeDocument(volume), status: .created)
        }
        router.add(.DELETE, "/volumes/{name}") { [self] request in
            let name = request.parameters["name"] ?? ""
            let force = request.bool("force")
            try await blocking { try self.engine.removeVolume(name, force: force) }
            return .noContent()
        }
        router.add(.POST, "/volumes/prune") { [self] request in
            // Since API 1.42 named volumes are kept unless the filter all=true asks for them.
            var values = try FilterQuery.values(request.string("filters"))
            let allValues = values.removeValue(forKey: "all") ?? []
            let all = allValues.contains { ["true", "1"].contains($0.lowercased()) }
                || (request.version.map { $0 < APIVersion(major: 1, minor: 42) } ?? false)
            let filter = try VolumeFilter(values, allowed: ["label", "label!"])
            let result = try await blocking { try self.engine.pruneVolumes(all: all, filter: filter) }
            var answer = JSONObject()
            answer.set("VolumesDeleted", .array(result.removed.map { .string($0) }))
            answer.set("SpaceReclaimed", .number(String(result.bytes)))
            return .json(answer)
        }
    }
}
