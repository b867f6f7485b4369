#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys

/// The lines the monitor adds to the engine's event log (`ROOT/events.log`, the engine's
/// `EventLog` format: one JSON object a line, appended with O_APPEND so that concurrent
/// writers never interleave): `die` when the container ends and `health_status: STATUS`
/// when its health changes, with the container's name and image as the engine's own
/// events carry them.
struct EventAppender {
    /// Empty: no event log (the monitor of a pod's container).
    let path: String
    let id: String
    /// name=..., image=..., from the engine's `--event-attribute` options.
    let attributes: [(String, String)]

    func append(_ action: String, _ extra: [(String, String)] = []) {
        guard !path.isEmpty else { return }
        var attributeObject = JSONObject()
        for (key, value) in (attributes + extra).sorted(by: { $0.0 < $1.0 }) { attributeObject.set(key, .string(value)) }
        var actor = JSONObject()
        actor.set("ID", .string(id))
        actor.set("Attributes", .object(attributeObject))
        var event = JSONObject()
        event.set("Type", .string("container"))
        event.set("Action", .string(action))
        event.set("Actor", .object(actor))
        event.set("time", .string(Clock.rfc3339Now()))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        try? Files.writeAll(fd: fd, bytes: JSONEncoding.serialize(.object(event)) + [0x0a])
    }
}
