import CaissonJSON
import ImageSpec

/// `docker image inspect`'s document: one place for `caisson image inspect` and the
/// Docker Engine API's `GET /images/{name}/json`.
public enum ImageInspection {
    public static func document(_ record: ImageRecord, service: ImageService) throws(ImageError) -> JSONObject {
        let configBytes = try service.configBytes(of: record)
        let config: ImageConfig
        do { config = try ImageConfig.parse(configBytes) } catch { throw .document(error) }
        guard case .object(let raw)? = try? JSONParser.parse(configBytes) else { throw .invalid("image config is not an object") }
        var object = JSONObject()
        object.set("Id", .string(record.id.description))
        object.set("RepoTags", .array(record.repoTags.map { .string(ImageService.familiarName($0)) }))
        object.set("RepoDigests", .array(record.repoDigests.map { .string(ImageService.familiarName($0)) }))
        object.set("Parent", .string(""))
        object.set("Comment", .string(config.history?.last?.comment ?? ""))
        object.set("Created", .string(record.created ?? ""))
        object.set("Author", .string(config.author ?? ""))
        object.set("Config", raw["config"] ?? .object(JSONObject()))
        object.set("Architecture", .string(config.architecture))
        if let variant = config.variant { object.set("Variant", .string(variant)) }
        object.set("Os", .string(config.os))
        object.set("Size", .number(String(service.size(of: record))))
        var rootfs = JSONObject()
        rootfs.set("Type", .string("layers"))
        rootfs.set("Layers", .array(config.rootfs.diff_ids.map { .string($0.description) }))
        object.set("RootFS", .object(rootfs))
        var metadata = JSONObject()
        metadata.set("LastTagTime", .string(record.added))
        object.set("Metadata", .object(metadata))
        object.set("Digest", .string(record.manifest.description))
        object.set("ManifestMediaType", .string(record.manifestMediaType))
        return object
    }
}
