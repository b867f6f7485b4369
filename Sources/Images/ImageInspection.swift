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
        object.set("Container", .string(""))
        object.set("ContainerConfig", .object(ImageInspection.dockerConfig(nil)))
        object.set("DockerVersion", .string(""))
        object.set("Author", .string(config.author ?? ""))
        if case .object(let given)? = raw["config"] {
            object.set("Config", .object(ImageInspection.dockerConfig(given)))
        } else {
            object.set("Config", .object(ImageInspection.dockerConfig(nil)))
        }
        object.set("Architecture", .string(config.architecture))
        if let variant = config.variant { object.set("Variant", .string(variant)) }
        object.set("Os", .string(config.os))
        object.set("Size", .number(String(service.size(of: record))))
        var data = JSONObject()
        let layers = config.rootfs.diff_ids.reversed().map { service.snapshots.layerPath($0) }
        if layers.count > 1 { data.set("LowerDir", .string(layers.dropFirst().joined(separator: ":"))) }
        if let top = layers.first { data.set("UpperDir", .string(top)) }
        var driver = JSONObject()
        driver.set("Data", .object(data))
        driver.set("Name", .string("overlay2"))
        object.set("GraphDriver", .object(driver))
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

    /// The run configuration as docker shows it: every field of its container config in
    /// its order, the image's value or docker's zero value, the optional ones only when set.
    static func dockerConfig(_ given: JSONObject?) -> JSONObject {
        let given = given ?? JSONObject()
        var config = JSONObject()
        func field(_ key: String, _ zero: JSONValue) { config.set(key, given[key] ?? zero) }
        func optional(_ key: String) { if let value = given[key], value != .null { config.set(key, value) } }
        field("Hostname", .string(""))
        field("Domainname", .string(""))
        field("User", .string(""))
        field("AttachStdin", .bool(false))
        field("AttachStdout", .bool(false))
        field("AttachStderr", .bool(false))
        optional("ExposedPorts")
        field("Tty", .bool(false))
        field("OpenStdin", .bool(false))
        field("StdinOnce", .bool(false))
        field("Env", .null)
        field("Cmd", .null)
        optional("Healthcheck")
        optional("ArgsEscaped")
        field("Image", .string(""))
        field("Volumes", .null)
        field("WorkingDir", .string(""))
        field("Entrypoint", .null)
        field("OnBuild", .null)
        field("Labels", .null)
        optional("StopSignal")
        optional("StopTimeout")
        optional("Shell")
        return config
    }
}
