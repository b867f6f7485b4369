import CaissonSys
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
    /// `ID,NAME,TYPE` lines, one per network the container is on: the engine rewrites the
    /// file when it starts the container and when a network is connected or disconnected
    /// while it runs, so it is read at each event.
    let networksFile: String

    func append(_ action: String, _ extra: [(String, String)] = []) {
        guard !path.isEmpty else { return }
        EventLogLine.append(to: path, type: "container", action: action, id: id, attributes: attributes + extra)
    }

    /// docker's `network connect` or `disconnect` for each of the container's networks
    /// (at a restart and at each exit).
    func networks(_ action: String) {
        guard !path.isEmpty else { return }
        for network in currentNetworks() {
            EventLogLine.append(to: path, type: "network", action: action, id: network.id,
                                attributes: [("container", id), ("name", network.name), ("type", network.type)])
        }
    }

    private func currentNetworks() -> [(id: String, name: String, type: String)] {
        guard let text = try? Files.readString(networksFile) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return fields.count == 3 ? (fields[0], fields[1], fields[2]) : nil
        }
    }
}
