import EventLogFormat

/// The lines the monitor adds to the engine's event log (`ROOT/events.log`, written by
/// `EventLogLine` as the engine's are): `die` when the container ends and `health_status: STATUS`
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
        EventLogLine.append(to: path, type: "container", action: action, id: id, attributes: attributes + extra)
    }
}
