import CaissonJSON
import CLIFormatting
import Engine
import ImageSpec
import Images

/// The image endpoints on the engine's image service (the store `caisson images` shows):
/// list (with docker's filters), inspect, tag and remove. Names keep their slashes (`/images/local/busybox:1/json`).
extension DockerAPI {
    func addImageRoutes(_ router: inout Router) {
        router.add(.GET, "/images/json") { [self] request in
            if request.bool("shared-size") {
                throw DockerAPIError.badParameter("invalid parameter shared-size: sizes shared between images are not computed by Caisson")
            }
            let text = request.string("filters")
            return .json(.array(try await blocking {
                let filters = try ImageFilters(text, allowed: ["dangling", "reference", "label", "label!", "before", "since"],
                                               service: self.engine.images)
                return try self.imageList(filters)
            }))
        }
        router.add(.GET, "/images/{name*}/json") { [self] request in
            let name = request.parameters["name"] ?? ""
            return .json(try await blocking {
                let service = self.engine.images
                return try ImageInspection.document(try service.resolve(name), service: service)
            })
        }
        router.add(.POST, "/images/{name*}/tag") { [self] request in
            let name = request.parameters["name"] ?? ""
            guard let repository = request.string("repo"), !repository.isEmpty else {
                throw DockerAPIError.badParameter("invalid parameter repo: a repository name is required")
            }
            let tag = request.string("tag") ?? ""
            let target = tag.isEmpty ? repository : repository + ":" + tag
            try await blocking {
                do {
                    try self.engine.images.tag(name, as: target)
                    if let id = try? self.engine.images.resolve(name).id { self.engine.events.imageTagged(id: id, as: target) }
                } catch {
                    if case ImageError.document(let reason)? = error as? ImageError { throw DockerAPIError.badParameter("invalid reference \(target): \(reason)") }
                    throw error
                }
            }
            return APIResponse(status: .created)
        }
        router.add(.DELETE, "/images/{name*}") { [self] request in
            let name = request.parameters["name"] ?? ""
            let force = request.bool("force")
            let lines = try await blocking { () throws -> [String] in
                let users = try self.engine.imageUsers()
                let id = try? self.engine.images.resolve(name).id
                let lines = try self.engine.images.remove(name, force: force, users: users)
                if let id { self.engine.events.imageRemoved(id: id, lines: lines) }
                return lines
            }
            return .json(.array(lines.compactMap(DockerAPI.imageDeleteItem)))
        }
    }

    /// "Untagged: NAME" and "Deleted: ID", the image service's report, as docker's items.
    static func imageDeleteItem(_ line: String) -> JSONValue? {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        var item = JSONObject()
        switch parts[0] {
        case "Untagged:": item.set("Untagged", .string(ImageService.familiarName(parts[1])))
        case "Deleted:": item.set("Deleted", .string(parts[1]))
        default: return nil
        }
        return .object(item)
    }

    /// docker's image summaries (`docker images`), newest first, those `filters` match.
    /// RepoDigests are always there (the `digests` parameter asks for nothing more).
    func imageList(_ filters: ImageFilters) throws -> [JSONValue] {
        let service = engine.images
        let containers = try engine.store.containers()
        let records = try service.list().filter { filters.matches($0, labels: (try? service.config(of: $0).config?.Labels ?? [:]) ?? [:]) }
        return records.sorted { ($0.created ?? "") > ($1.created ?? "") }.map { record in
            var object = JSONObject()
            object.set("Id", .string(record.id.description))
            object.set("ParentId", .string(""))
            object.set("RepoTags", .strings(filters.shownNames(record.repoTags.map(ImageService.familiarName))))
            object.set("RepoDigests", .strings(filters.shownNames(record.repoDigests.map(ImageService.familiarName))))
            object.set("Created", .int(record.created.flatMap(Time.parseRFC3339) ?? 0))
            object.set("Size", .int(service.size(of: record)))
            object.set("SharedSize", .int(-1))
            object.set("Labels", .map((try? service.config(of: record).config?.Labels ?? [:]) ?? [:]))
            object.set("Containers", .int(containers.filter { $0.imageID == record.id }.count))
            return .object(object)
        }
    }
}
