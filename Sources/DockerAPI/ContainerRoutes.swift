import CaissonJSON
import CaissonSys
import CLIFormatting
import Engine
import ImageSpec
import NIOHTTP1

/// The container endpoints: create, inspect, start, stop, kill, wait and remove, each
/// one engine call (on the thread pool) with docker's statuses around it.
extension DockerAPI {
    func addContainerRoutes(_ router: inout Router) {
        router.add(.GET, "/containers/json") { [self] request in
            let all = request.bool("all")
            let limit = try request.int("limit")
            let size = request.bool("size")
            let filters = try FilterQuery.values(request.string("filters"))
            return .json(.array(try await blocking { try self.containerList(all: all, limit: limit, size: size, filters: filters) }))
        }
        router.add(.POST, "/containers/create") { [self] request in
            let config = try ContainerCreateRequest.config(from: request.body)
            let name = request.string("name").flatMap { $0.isEmpty ? nil : $0 }
            let record = try await blocking { () throws -> ContainerRecord in
                do throws(EngineError) {
                    return try self.engine.create(config, name: name)
                } catch .noSuchNetwork(let network) {
                    // Not a 404: the docker CLI takes any 404 from create for a missing
                    // image and goes to pull it (dockerd fails such a container at start).
                    throw DockerAPIError.badParameter(EngineError.noSuchNetwork(network).description)
                }
            }
            var object = JSONObject()
            object.set("Id", .string(record.id))
            object.set("Warnings", .array([]))
            return .json(object, status: .created)
        }
        router.add(.GET, "/containers/{id}/json") { [self] request in
            let id = request.parameters["id"] ?? ""
            return .json(try await blocking {
                let record = try self.engine.find(id)
                var document = ContainerInspection.document(record, engine: self.engine)
                // The exec instances live in this API, not in the engine.
                let execIDs = self.execs.ids(ofContainer: record.id)
                document.set("ExecIDs", execIDs.isEmpty ? .null : .strings(execIDs))
                return document
            })
        }
        router.add(.POST, "/containers/{id}/start") { [self] request in
            let id = request.parameters["id"] ?? ""
            let started = try await blocking { () throws -> Bool in
                let record = try self.engine.find(id)
                if self.engine.state(of: record).isRunning { return false }
                try self.startContainer(record.id)
                return true
            }
            return started ? .noContent() : .notModified()
        }
        router.add(.POST, "/containers/{id}/stop") { [self] request in
            let id = request.parameters["id"] ?? ""
            let timeout = try request.int("t")
            let signal = request.string("signal").flatMap { $0.isEmpty ? nil : $0 }
            let stopped = try await blocking { () throws -> Bool in
                let record = try self.engine.find(id)
                if !self.engine.state(of: record).isRunning { return false }
                try self.engine.stop(record.id, timeout: timeout, signal: signal)
                return true
            }
            return stopped ? .noContent() : .notModified()
        }
        router.add(.POST, "/containers/{id}/restart") { [self] request in
            let id = request.parameters["id"] ?? ""
            let timeout = try request.int("t")
            try await blocking {
                let record = try self.engine.find(id)
                if self.engine.state(of: record).isRunning { try self.engine.stop(record.id, timeout: timeout) }
                try self.startContainer(record.id)
            }
            return .noContent()
        }
        router.add(.POST, "/containers/{id}/pause") { [self] request in
            let id = request.parameters["id"] ?? ""
            try await blocking { try self.engine.pause(id) }
            return .noContent()
        }
        router.add(.POST, "/containers/{id}/unpause") { [self] request in
            let id = request.parameters["id"] ?? ""
            try await blocking { try self.engine.unpause(id) }
            return .noContent()
        }
        router.add(.POST, "/containers/{id}/rename") { [self] request in
            let id = request.parameters["id"] ?? ""
            guard let name = request.string("name"), !name.isEmpty else {
                throw DockerAPIError.badParameter("invalid parameter name: a new name is required")
            }
            try await blocking { try self.engine.rename(id, to: name.hasPrefix("/") ? String(name.dropFirst()) : name) }
            return .noContent()
        }
        router.add(.POST, "/containers/{id}/kill") { [self] request in
            let id = request.parameters["id"] ?? ""
            let signal = request.string("signal").flatMap { $0.isEmpty ? nil : $0 } ?? "SIGKILL"
            do {
                try await blocking { try self.engine.kill(id, signal: signal) }
            } catch {
                // dockerd's words: "Cannot kill container: NAME: No such container: NAME".
                let failure = DockerAPIError.from(error)
                throw DockerAPIError(failure.status, "Cannot kill container: \(id): \(failure.message)")
            }
            return .noContent()
        }
        router.add(.POST, "/containers/{id}/wait") { [self] request in
            try await wait(request.parameters["id"] ?? "", condition: request.string("condition") ?? "not-running")
        }
        router.add(.DELETE, "/containers/{id}") { [self] request in
            let id = request.parameters["id"] ?? ""
            let force = request.bool("force")
            let volumes = request.bool("v")
            let removed = try await blocking { () throws -> String in
                let record = try self.engine.find(id)
                try self.engine.remove(record.id, force: force, volumes: volumes)
                return record.id
            }
            execs.forget(container: removed)
            attaches.cancel(removed)
            return .noContent()
        }
    }

    /// Waits until the container is not running (`not-running`), until it next exits
    /// (`next-exit`), or until it is removed (`removed`), polling its state. The headers
    /// go at once, as docker sends them: `docker run` waits for them before it starts.
    func wait(_ id: String, condition: String) async throws -> APIResponse {
        guard ["not-running", "next-exit", "removed"].contains(condition) else {
            throw DockerAPIError.badParameter("invalid condition: \"\(condition)\"")
        }
        // The last exit before the wait began: `next-exit` is any exit after it, even one
        // that comes and goes between two looks (a container that exits at once).
        let (record, finishedBefore) = try await blocking { () throws -> (ContainerRecord, String?) in
            let record = try self.engine.find(id)
            return (record, self.engine.state(of: record).finishedAt)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return APIResponse(status: .ok, headers: headers, body: .stream { [self] stream in
            var sawRunning = false
            var sawExit = false
            var exitCode: Int32 = 0
            while true {
                let (exists, state) = try await blocking { () throws -> (Bool, ContainerState) in
                    let known = try self.engine.store.containers().contains { $0.id == record.id }
                    return (known, self.engine.state(of: record))
                }
                if exists, !state.isRunning, let code = state.exitCode { exitCode = code; sawExit = true }
                if state.isRunning { sawRunning = true }
                let done: Bool
                switch condition {
                case "removed": done = !exists
                case "next-exit":
                    done = !exists || (!state.isRunning && (sawRunning || (state.finishedAt != nil && state.finishedAt != finishedBefore)))
                default: done = !exists || !state.isRunning
                }
                if done { break }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            if !sawExit, let code = try await blocking({ self.engine.events.lastExitCode(of: record.id) }) {
                // Removed (`--rm`) before a look saw its exit: the monitor's `die` event has it.
                exitCode = code
            }
            var object = JSONObject()
            object.set("StatusCode", .int(exitCode))
            object.set("Error", .null)
            try await stream.send(JSONEncoding.serialize(.object(object)) + [0x0a])
        })
    }

    /// docker's list entries (`docker ps`), newest first.
    func containerList(all: Bool, limit: Int?, size: Bool = false, filters values: [String: [String]]) throws -> [JSONValue] {
        var rows = try engine.list().sorted { $0.0.created > $1.0.created }
        let filter = try ContainerListFilter(values, engine: engine, containers: rows)
        rows = rows.filter { record, state in
            if !all && (limit ?? 0) <= 0 && !filter.showsStopped && !state.isRunning { return false }
            return filter.matches(record, state)
        }
        if let limit, limit > 0 { rows = Array(rows.prefix(limit)) }
        guard size else { return rows.map { record, state in .object(summary(record, state)) } }
        let imageSizes = try self.imageSizes()
        return rows.map { record, state in .object(withSizes(summary(record, state), record, imageSizes: imageSizes)) }
    }

    /// Each image's size by id, for containers' SizeRootFs.
    func imageSizes() throws -> [Digest: Int64] {
        Dictionary((try engine.images.list()).map { ($0.id, engine.images.size(of: $0)) }) { a, _ in a }
    }

    /// A summary with docker's `size` figures: SizeRw (the writable layer) and SizeRootFs
    /// (that plus the image).
    func withSizes(_ summary: JSONObject, _ record: ContainerRecord, imageSizes: [Digest: Int64]) -> JSONObject {
        var object = summary
        let writable = ContainerEngine.diskUsageOf(engine.images.upperDirectory(ofRootfs: record.id))
        object.set("SizeRw", .int(writable))
        object.set("SizeRootFs", .int(writable + (imageSizes[record.imageID] ?? 0)))
        return object
    }

    func summary(_ record: ContainerRecord, _ state: ContainerState) -> JSONObject {
        var object = JSONObject()
        object.set("Id", .string(record.id))
        object.set("Names", .strings(["/" + record.name]))
        object.set("Image", .string(record.config.image))
        object.set("ImageID", .string(record.imageID.description))
        object.set("Command", .string(StatusText.command(record, engine: engine)))
        object.set("Created", .int(Time.parseRFC3339(record.created) ?? 0))
        object.set("State", .string(state.status.rawValue))
        object.set("Status", .string(StatusText.describe(state)))
        // As dockerd lists them: published ports while the container runs, and the exposed
        // ports nothing publishes (PrivatePort and Type alone).
        var ports: [JSONValue] = []
        let published = state.isRunning ? record.publishedPorts : []
        for port in published {
            var item = JSONObject()
            item.set("IP", .string(port.hostIP.isEmpty ? "0.0.0.0" : port.hostIP))
            item.set("PrivatePort", .int(port.containerPort))
            item.set("PublicPort", .int(port.hostPort))
            item.set("Type", .string(port.proto))
            ports.append(.object(item))
        }
        for exposed in record.config.exposedPorts ?? [] {
            let parts = exposed.split(separator: "/", maxSplits: 1).map(String.init)
            guard let number = parts.first.flatMap({ Int($0) }) else { continue }
            let proto = parts.count == 2 ? parts[1] : "tcp"
            if published.contains(where: { $0.containerPort == number && $0.proto == proto }) { continue }
            var item = JSONObject()
            item.set("PrivatePort", .int(number))
            item.set("Type", .string(proto))
            ports.append(.object(item))
        }
        object.set("Ports", .array(ports))
        object.set("Labels", .map(record.config.labels))
        var host = JSONObject()
        host.set("NetworkMode", .string(record.config.network))
        object.set("HostConfig", .object(host))
        var networks = JSONObject()
        if ["none", "host"].contains(record.config.network) {
            // dockerd lists the mode as the network (docker ps shows "none", "host").
            var endpoint = JSONObject()
            endpoint.set("IPAddress", .string(""))
            endpoint.set("MacAddress", .string(""))
            networks.set(record.config.network, .object(endpoint))
        }
        for network in record.allNetworks {
            // dockerd releases a stopped container's endpoints: no address, no MAC.
            var endpoint = JSONObject()
            endpoint.set("IPAddress", .string(state.isRunning ? network.address ?? "" : ""))
            endpoint.set("MacAddress", .string(state.isRunning ? network.mac ?? "" : ""))
            networks.set(network.name, .object(endpoint))
        }
        var settings = JSONObject()
        settings.set("Networks", .object(networks))
        object.set("NetworkSettings", .object(settings))
        // The mount points as inspect shows them (a volume's Name and Driver: docker ps's
        // MOUNTS and LOCAL VOLUMES read them).
        object.set("Mounts", .array(ContainerInspection.mounts(record, engine: engine)))
        return object
    }
}
