import CaissonJSON

/// Networks and volumes as docker describes them (`network inspect`, `volume inspect`, and
/// the Docker API's network and volume endpoints): one document each, which the command
/// line prints and the API serves.
extension ContainerEngine {
    /// A network's document, with the containers attached to it and their addresses.
    public func networkDocument(_ network: NetworkRecord) throws(EngineError) -> JSONObject {
        var object = JSONObject()
        object.set("Name", .string(network.name))
        object.set("Id", .string(network.id))
        object.set("Created", .string(network.created))
        object.set("Scope", .string("local"))
        object.set("Driver", .string(network.driver))
        object.set("EnableIPv6", .bool(false))
        var config = JSONObject()
        config.set("Subnet", .string(network.subnet))
        config.set("Gateway", .string(network.gateway))
        // docker's IPAM driver name ("default"); host-local does the work underneath.
        var ipam = JSONObject()
        ipam.set("Driver", .string("default"))
        ipam.set("Options", .object(JSONObject()))
        ipam.set("Config", .array([.object(config)]))
        object.set("IPAM", .object(ipam))
        ContainerEngine.setScopeFlags(&object)
        var containers = JSONObject()
        // The endpoints of running containers, as dockerd's (a stopped one keeps its lease
        // for its next start, but has no endpoint).
        for record in try store.containers() {
            guard let attachment = record.allNetworks.first(where: { $0.name == network.name }), let address = attachment.address,
                  state(of: record).isRunning else { continue }
            var entry = JSONObject()
            entry.set("Name", .string(record.name))
            entry.set("EndpointID", .string(ContainerInspection.endpointID(record, network: network.name)))
            entry.set("MacAddress", .string(attachment.mac ?? ""))
            entry.set("IPv4Address", .string(address + "/" + String(network.subnet.split(separator: "/").last ?? "24")))
            entry.set("IPv6Address", .string(""))
            containers.set(record.id, .object(entry))
        }
        object.set("Containers", .object(containers))
        var options = JSONObject()
        options.set("com.docker.network.bridge.name", .string(network.bridge))
        object.set("Options", .object(options))
        object.set("Labels", ContainerEngine.labelObject(network.labels))
        return object
    }

    /// The `host` and `none` networks every engine has, which have no record.
    public static func builtinNetworkDocument(_ name: String) -> JSONObject {
        var object = JSONObject()
        object.set("Name", .string(name))
        object.set("Id", .string(name))
        object.set("Created", .string("0001-01-01T00:00:00Z"))
        object.set("Scope", .string("local"))
        object.set("Driver", .string(name == "none" ? "null" : name))
        object.set("EnableIPv6", .bool(false))
        var ipam = JSONObject()
        ipam.set("Driver", .string("default"))
        ipam.set("Options", .null)
        ipam.set("Config", .array([]))
        object.set("IPAM", .object(ipam))
        setScopeFlags(&object)
        object.set("Containers", .object(JSONObject()))
        object.set("Options", .object(JSONObject()))
        object.set("Labels", .object(JSONObject()))
        return object
    }

    /// Internal, Attachable, Ingress, ConfigFrom and ConfigOnly, as docker has them for a
    /// local network.
    static func setScopeFlags(_ object: inout JSONObject) {
        object.set("Internal", .bool(false))
        object.set("Attachable", .bool(false))
        object.set("Ingress", .bool(false))
        var from = JSONObject()
        from.set("Network", .string(""))
        object.set("ConfigFrom", .object(from))
        object.set("ConfigOnly", .bool(false))
    }

    /// A volume's document.
    public static func volumeDocument(_ volume: VolumeRecord) -> JSONObject {
        var object = JSONObject()
        object.set("CreatedAt", .string(volume.created))
        object.set("Driver", .string(volume.driver))
        object.set("Labels", labelObject(volume.labels))
        object.set("Mountpoint", .string(volume.mountpoint))
        object.set("Name", .string(volume.name))
        object.set("Options", .null)  // docker's for a volume made without driver options
        object.set("Scope", .string("local"))
        return object
    }

    static func labelObject(_ labels: [String: String]) -> JSONValue {
        var object = JSONObject()
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { object.set(key, .string(value)) }
        return .object(object)
    }
}
