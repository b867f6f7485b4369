import CaissonSys
import Images

/// config.json written again after create: by `update` (so the next start keeps the new
/// limits, as docker's do) and at each start of a container that joins another's PID
/// namespace (the path names the other's init, which changes when it restarts), or
/// whose create was cut short before it wrote it.
extension ContainerEngine {
    func refreshSpecForStart(_ record: ContainerRecord) throws(EngineError) {
        if let mode = record.config.pidMode, mode.hasPrefix("container:") {
            _ = try namespaceHolder(String(mode.dropFirst(10)), setting: .pid)
            try rewriteSpec(record)
        } else if !Files.exists(bundle(of: record.id) + "/config.json") {
            // A create whose caller was killed after recording the container and before
            // writing its spec: the start finishes it, as the rootfs mount is redone.
            try rewriteSpec(record)
        }
    }

    func rewriteSpec(_ record: ContainerRecord) throws(EngineError) {
        guard let image = try? images.list().first(where: { $0.id == record.imageID }) else {
            throw .invalid("the image of container \(record.name) is gone; its configuration cannot be written again")
        }
        do {
            try SpecBuilder(engine: self).writeConfig(record, image: image)
        } catch let error as EngineError {
            throw error
        } catch let error as ImageError {
            throw .image(error)
        } catch {
            throw .invalid("\(error)")
        }
    }
}
