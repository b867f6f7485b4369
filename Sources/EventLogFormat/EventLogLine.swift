#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys

/// One line of the engine's event log (`ROOT/events.log`): a JSON object with docker's
/// event fields (`Type`, `Action`, `Actor` with `ID` and sorted `Attributes`, `time`),
/// appended with O_APPEND so that the processes writing it at once (the CLI, caissond and
/// every container's monitor) never interleave. One writer for all of them, so the log
/// keeps one shape; the monitor links this module, not the engine.
public enum EventLogLine {
    public static func append(to path: String, type: String, action: String, id: String, attributes: [(String, String)]) {
        var attributeObject = JSONObject()
        for (key, value) in attributes.sorted(by: { $0.0 < $1.0 }) { attributeObject.set(key, .string(value)) }
        var actor = JSONObject()
        actor.set("ID", .string(id))
        actor.set("Attributes", .object(attributeObject))
        var event = JSONObject()
        event.set("Type", .string(type))
        event.set("Action", .string(action))
        event.set("Actor", .object(actor))
        event.set("time", .string(Clock.rfc3339Now()))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        try? Files.writeAll(fd: fd, bytes: JSONEncoding.serialize(.object(event)) + [0x0a])
    }
}
