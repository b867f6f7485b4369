import CaissonSys
import Images

/// Why an engine operation failed, worded as docker words it where docker has words.
/// `exitCode` is what `caisson` exits with: 125 for engine errors, 126 when the command
/// cannot be invoked, 127 when it is not found (docker's convention).
public enum EngineError: Error, CustomStringConvertible, Sendable {
    case noSuchContainer(String)
    case nameInUse(name: String, id: String)
    case notRunning(String)
    case isRunning(String)
    case portAllocated(String)
    case noSuchNetwork(String)
    case networkExists(String)
    case networkInUse(String)
    case noSuchVolume(String)
    /// The volume and the containers that use it (docker names them).
    case volumeInUse(String, containers: [String] = [])
    case invalid(String)
    /// A value of a container's configuration the engine cannot carry out, naming the
    /// setting (each front end words the name its own way: `--ulimit`, `HostConfig.Ulimits`).
    case invalidSetting(ContainerSetting, String)
    case runtime(String)
    case commandNotFound(String)
    case commandNotExecutable(String)
    case network(String)
    case image(ImageError)
    case system(SysError)
    case store(String)

    public var description: String {
        switch self {
        case .noSuchContainer(let name): return "No such container: \(name)"
        case .nameInUse(let name, let id):
            return "Conflict. The container name \"/\(name)\" is already in use by container \"\(id)\". You have to remove (or rename) that container to be able to reuse that name."
        case .notRunning(let name): return "Container \(name) is not running"
        case .isRunning(let name):
            return "cannot remove container \"\(name)\": container is running: stop the container before removing or force remove"
        case .portAllocated(let binding): return "Bind for \(binding) failed: port is already allocated"
        case .noSuchNetwork(let name): return "network \(name) not found"
        case .networkExists(let name): return "network with name \(name) already exists"
        case .networkInUse(let name): return "error while removing network: network \(name) has active endpoints"
        case .noSuchVolume(let name): return "get \(name): no such volume"
        case .volumeInUse(let name, let containers):
            return "remove \(name): volume is in use" + (containers.isEmpty ? "" : " - [" + containers.joined(separator: ", ") + "]")
        case .invalid(let text): return text
        case .invalidSetting(let setting, let text): return "invalid \(setting.flag): \(text)"
        case .runtime(let text): return text
        case .commandNotFound(let text): return text
        case .commandNotExecutable(let text): return text
        case .network(let text): return text
        case .image(let error): return error.description
        case .system(let error): return error.description
        case .store(let text): return "state store: \(text)"
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .commandNotFound: return 127
        case .commandNotExecutable: return 126
        default: return 125
        }
    }
}
