import ImageSpec
import Images

/// docker's image events (`pull`, `tag`, `untag`, `delete`), recorded in the event log by
/// whichever front end changed the images (`caisson pull|tag|rmi` and the Docker API):
/// for a pull the actor is the familiar reference (`busybox:latest`) named by its
/// repository; for a tag, the image id named by the new reference; for untag and delete,
/// the image id.
extension EventLog {
    public func imagePulled(_ text: String) {
        guard let reference = try? ImageReference(parsing: text) else { return }
        record(type: "image", action: "pull", id: ImageService.familiarName(reference.description),
               attributes: ["name": ImageService.familiarName(reference.name)])
    }

    public func imageTagged(id: Digest, as text: String) {
        let name = (try? ImageReference(parsing: text)).map { ImageService.familiarName($0.description) } ?? text
        record(type: "image", action: "tag", id: id.description, attributes: ["name": name])
    }

    /// From the lines `ImageService.remove` returns ("Untagged: ...", "Deleted: ...").
    public func imageRemoved(id: Digest, lines: [String]) {
        for line in lines {
            if line.hasPrefix("Untagged: ") {
                record(type: "image", action: "untag", id: id.description, attributes: ["name": id.description])
            } else if line.hasPrefix("Deleted: "), line == "Deleted: \(id)" {
                // The image's own line; those of its layers make no event.
                let deleted = String(line.dropFirst("Deleted: ".count))
                record(type: "image", action: "delete", id: deleted, attributes: ["name": deleted])
            }
        }
    }
}
