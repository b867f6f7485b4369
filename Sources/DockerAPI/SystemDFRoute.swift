import Builder
import CaissonJSON
import CaissonSys
import Engine
import ImageSpec
import Images

/// `GET /system/df?type=` (docker system df): `LayersSize` (the image blobs, each layer
/// counted once, as image sizes count them), `Images` (summaries with the bytes shared with other images),
/// `Containers` (summaries with `SizeRw`, the writable layer, and `SizeRootFs`, that plus
/// the image), `Volumes` (with `UsageData` `Size` and `RefCount`) and `BuildCache` (the
/// builder's cached steps and `RUN --mount=type=cache` directories). `type` (container,
/// image, volume, build-cache) limits the answer to those parts.
extension DockerAPI {
    func addSystemDFRoute(_ router: inout Router) {
        router.add(.GET, "/system/df") { [self] request in
            let known = ["container", "image", "volume", "build-cache"]
            let types = (request.query["type"] ?? []).filter { !$0.isEmpty }
            for type in types where !known.contains(type) {
                throw DockerAPIError.badParameter("unknown object type: \(type)")
            }
            let wanted = Set(types.isEmpty ? known : types)
            return .json(try await blocking { try self.diskUsage(wanted) })
        }
    }

    func diskUsage(_ wanted: Set<String>) throws -> JSONObject {
        var answer = JSONObject()
        let containers = try engine.list()
        if wanted.contains("image") {
            // Sizes as `docker images` counts them (each layer unpacked), so that LayersSize,
            // Size and SharedSize add up: each layer counted once.
            let service = engine.images
            var layersOf: [String: [(diffID: Digest, size: Int64)]] = [:]
            var users: [Digest: Int] = [:]
            var layersSize: Int64 = 0
            for image in try service.list() {
                guard let layers = service.layerSizes(of: image) else { continue }
                layersOf[image.id.description] = layers
                for layer in layers where users[layer.diffID] == nil { layersSize += layer.size }
                for diffID in Set(layers.map(\.diffID)) { users[diffID, default: 0] += 1 }
            }
            answer.set("LayersSize", .int(layersSize))
            answer.set("Images", .array(try imageList(ImageFilters(nil, allowed: [], service: engine.images)).map { value in
                guard case .object(var object) = value, case .string(let id)? = object["Id"] else { return value }
                var seen = Set<Digest>()
                let shared = (layersOf[id] ?? []).filter { (users[$0.diffID] ?? 0) > 1 && seen.insert($0.diffID).inserted }
                    .reduce(Int64(0)) { $0 + $1.size }
                object.set("SharedSize", .int(shared))
                return .object(object)
            }))
        }
        if wanted.contains("container") {
            let imageSizes = try self.imageSizes()
            answer.set("Containers", .array(containers.sorted { $0.0.created > $1.0.created }.map { record, state in
                .object(withSizes(summary(record, state), record, imageSizes: imageSizes))
            }))
        }
        if wanted.contains("volume") {
            answer.set("Volumes", .array(try engine.store.volumes().map { volume in
                var object = ContainerEngine.volumeDocument(volume)
                var usage = JSONObject()
                usage.set("Size", .int(ContainerEngine.diskUsageOf(volume.mountpoint)))
                usage.set("RefCount", .int(containers.filter { record, _ in
                    record.config.mounts.contains { $0.kind == .volume && $0.source == volume.name }
                }.count))
                object.set("UsageData", .object(usage))
                return .object(object)
            }))
        }
        if wanted.contains("build-cache") {
            let root = engine.images.root
            var items: [JSONValue] = BuildCache(root: root).items(images: engine.images).map { item in
                DockerAPI.buildCacheItem(id: item.id, type: "regular", description: "cached build step", size: item.size, created: item.created)
            }
            let mounts = BuildCache.mountsDirectory(root: root)
            for name in ((try? Files.listDirectory(mounts)) ?? []).sorted() where !name.hasSuffix(".lock") {
                items.append(DockerAPI.buildCacheItem(id: name, type: "exec.cachemount", description: "cached mount \(name)",
                                                      size: ContainerEngine.diskUsageOf(mounts + "/" + name), created: nil))
            }
            answer.set("BuildCache", .array(items))
        }
        return answer
    }

    static func buildCacheItem(id: String, type: String, description: String, size: Int64, created: String?) -> JSONValue {
        var object = JSONObject()
        object.set("ID", .string(id))
        object.set("Parents", .null)
        object.set("Type", .string(type))
        object.set("Description", .string(description))
        object.set("InUse", .bool(false))
        object.set("Shared", .bool(false))
        object.set("Size", .int(size))
        object.set("CreatedAt", .string(created ?? "0001-01-01T00:00:00Z"))
        object.set("LastUsedAt", .null)
        object.set("UsageCount", .int(0))
        return .object(object)
    }
}
