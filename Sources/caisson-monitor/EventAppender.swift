import EventLogFormat

/// The lines the monitor adds to the engine's event log (`ROOT/events.log`, written by
/// `EventLogLine` as the engine's are): `die` when the container ends (with `network
/// disconnect` for its networks), `start` when its restart policy starts it again (with
/// `network connect`) and `health_status: STATUS` when its health changes, with the
/// container's name and image as the engine's own events carry them.
struct EventAppender {
    /// Empty: no event log (the monitor of a pod's container).
    let path: String
    let id: String
    /// name=..., image=..., from the engine's `--event-attribute` options.
    let attributes: [(String, String)]
    /// The container's networks, from the engine's `--event-network` options.
    let networks: [(id: String, name: String, type: String)]

    func append(_ action: String, _ extra: [(String, String)] = []) {
        guard !path.isEmpty else { return }
        EventLogLine.append(to: path, type: "container", action: action, id: id, attributes: attributes + extra)
    }

    /// docker's `network connect` or `disconnect` for each of the container's networks
    /// (at a restart and at each exit).
    func networks(_ action: String) {
        guard !path.isEmpty else { return }
        for network in networks {
            EventLogLine.append(to: path, type: "network", action: action, id: network.id,
                                attributes: [("container", id), ("name", network.name), ("type", network.type)])
        }
    }
}
