import CaissonJSON
import CLIFormatting
import Engine
import ImageSpec
import Images

/// `GET /images/{name}/history` (docker history: the config's history, newest first, each
/// with the layer it made; `<missing>` ids below the image itself, as docker shows pulled
/// images) and `POST /images/prune` (dangling images, or with `dangling=false` every image
/// no container uses; `until` and `label` filters; docker's `ImagesDeleted` report).
extension DockerAPI {
    func addImageHistoryPruneRoutes(_ router: inout Router) {
        router.add(.GET, "/images/{name*}/history") { [self] request in
            let name = request.parameters["name"] ?? ""
            return .json(.array(try await blocking { try self.history(of: name) }))
        }
        router.add(.POST, "/images/prune") { [self] request in
            let text = request.string("filters")
            return .json(try await blocking { try self.pruneImages(text) })
        }
    }

    func history(of name: String) throws -> [JSONValue] {
        let service = engine.images
        let record = try service.resolve(name)
        let config = try service.config(of: record)
        let layers = service.layerSizes(of: record) ?? []
        var layerIndex = 0
        var entries: [JSONObject] = []
        let history = config.history ?? layers.map { _ in ImageConfig.History(created: config.created, createdBy: "") }
        for item in history {
            var size: Int64 = 0
            if item.empty_layer != true, layerIndex < layers.count {
                size = layers[layerIndex].size
                layerIndex += 1
            }
            var entry = JSONObject()
            entry.set("Id", .string("<missing>"))
            entry.set("Created", .int(item.created.flatMap(Time.parseRFC3339) ?? 0))
            entry.set("CreatedBy", .string(item.created_by ?? ""))
            entry.set("Tags", .null)
            entry.set("Size", .int(size))
            entry.set("Comment", .string(item.comment ?? ""))
            entries.append(entry)
        }
        entries.reverse()
        if entries.isEmpty { entries.append(JSONObject()) }
        entries[0].set("Id", .string(record.id.description))
        entries[0].set("Tags", .strings(record.repoTags.map(ImageService.familiarName)))
        if entries[0]["Created"] == nil {
            entries[0].set("Created", .int(record.created.flatMap(Time.parseRFC3339) ?? 0))
            entries[0].set("CreatedBy", .string(""))
            entries[0].set("Size", .int(0))
            entries[0].set("Comment", .string(""))
        }
        return entries.map { .object($0) }
    }

    func pruneImages(_ text: String?) throws -> JSONObject {
        let service = engine.images
        var filters = try ImageFilters(text, allowed: ["dangling", "until", "label", "label!"], service: service)
        // docker: dangling only, unless `dangling=false` asks for every unused image.
        let all = filters.dangling == false
        filters.dangling = all ? nil : true
        let inUse = Set(try engine.store.containers().map(\.imageID))
        let chosen = filters
        let result = try service.prune(inUse: inUse) { record in
            chosen.matches(record, labels: (try? service.config(of: record).config?.Labels ?? [:]) ?? [:])
        }
        var deleted: [JSONValue] = []
        for record in result.removed {
            for name in record.repoTags + record.repoDigests {
                var item = JSONObject()
                item.set("Untagged", .string(ImageService.familiarName(name)))
                deleted.append(.object(item))
            }
            var item = JSONObject()
            item.set("Deleted", .string(record.id.description))
            deleted.append(.object(item))
        }
        var object = JSONObject()
        object.set("ImagesDeleted", deleted.isEmpty ? .null : .array(deleted))
        object.set("SpaceReclaimed", .int(result.reclaimed))
        return object
    }
}
