import CaissonSys
import Registry

/// caissond's configuration file (TOML), for what flags do not say:
///
///     root = "/var/lib/caisson"
///     run_root = "/run/caisson"
///     cri_socket = "/run/caisson/caisson.sock"
///     registries_conf = "/etc/containers/registries.conf"
///     auth_file = "/etc/caisson/auth.json"
///     stream_address = "127.0.0.1"
///     stream_port = 10010
///     cgroup_parent = "/caisson-cri"
///     [cni]
///     conf_dir = "/etc/cni/net.d"
///     bin_dirs = ["/usr/lib/cni"]
///     [runtime_handlers]
///     runc = "/usr/sbin/runc"
///
/// Unknown keys are errors (a misspelt key should not silently do nothing).
struct DaemonConfigFile {
    var root: String?
    var runRoot: String?
    var criSocket: String?
    var registriesConf: String?
    var authFile: String?
    var streamAddress: String?
    var streamPort: Int?
    var cgroupParent: String?
    var cniConfigDirectory: String?
    var cniPluginDirectories: [String]?
    var runtimeHandlers: [String: String] = [:]

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    static func load(_ path: String, required: Bool) throws -> DaemonConfigFile {
        guard Files.exists(path) else {
            if required { throw Invalid(description: "configuration file \(path) does not exist") }
            return DaemonConfigFile()
        }
        let text: String
        do { text = try Files.readString(path) } catch { throw Invalid(description: "cannot read \(path): \(error)") }
        let document: TOMLValue
        do { document = try TOMLParser.parse(text) } catch { throw Invalid(description: "\(path): \(error)") }
        guard case .table(let top) = document else { throw Invalid(description: "\(path): not a table") }
        var config = DaemonConfigFile()
        func string(_ value: TOMLValue, _ key: String) throws -> String {
            guard let text = value.string else { throw Invalid(description: "\(path): \(key) must be a string") }
            return text
        }
        for (key, value) in top {
            switch key {
            case "root": config.root = try string(value, key)
            case "run_root": config.runRoot = try string(value, key)
            case "cri_socket": config.criSocket = try string(value, key)
            case "registries_conf": config.registriesConf = try string(value, key)
            case "auth_file": config.authFile = try string(value, key)
            case "stream_address": config.streamAddress = try string(value, key)
            case "cgroup_parent": config.cgroupParent = try string(value, key)
            case "stream_port":
                guard case .integer(let port) = value, port >= 0, port < 65536 else {
                    throw Invalid(description: "\(path): stream_port must be a port number")
                }
                config.streamPort = Int(port)
            case "cni":
                guard case .table(let cni) = value else { throw Invalid(description: "\(path): [cni] must be a table") }
                for (name, entry) in cni {
                    switch name {
                    case "conf_dir": config.cniConfigDirectory = try string(entry, "cni.conf_dir")
                    case "bin_dirs":
                        guard let items = entry.array?.compactMap(\.string) else {
                            throw Invalid(description: "\(path): cni.bin_dirs must be an array of strings")
                        }
                        config.cniPluginDirectories = items
                    default: throw Invalid(description: "\(path): unknown key cni.\(name)")
                    }
                }
            case "runtime_handlers":
                guard case .table(let handlers) = value else {
                    throw Invalid(description: "\(path): [runtime_handlers] must be a table")
                }
                for (name, entry) in handlers { config.runtimeHandlers[name] = try string(entry, "runtime_handlers.\(name)") }
            default:
                throw Invalid(description: "\(path): unknown key \(key)")
            }
        }
        return config
    }
}
