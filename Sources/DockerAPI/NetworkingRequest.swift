import CaissonJSON
import Engine

/// The create body's NetworkingConfig: the endpoint of the network named in
/// HostConfig.NetworkMode (or, without one, of the only network given, as docker takes
/// it), with its Aliases. Endpoint settings the engine does not carry out (static
/// addresses, links, MAC addresses, driver options) and further networks are refused by
/// name; the result fields clients copy back (NetworkID, IPAddress, ...) are ignored.
enum NetworkingRequest {
    static let endpointFields: Set<String> = [
        "Aliases", "IPAMConfig", "NetworkID", "EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway",
        "GlobalIPv6Address", "GlobalIPv6PrefixLen", "DNSNames",
    ]

    static func apply(_ networking: JSONBody, hostNetworkMode: String?, to config: inout ContainerConfig) throws(DockerAPIError) {
        try networking.refuseFields(except: ["EndpointsConfig"])
        guard let endpoints = try networking.object("EndpointsConfig"), !endpoints.object.keys.isEmpty else { return }
        let names = endpoints.object.keys
        guard names.count == 1 else {
            throw .badParameter("invalid field NetworkingConfig.EndpointsConfig: a container is created on one network; connect it to \(names.dropFirst().joined(separator: ", ")) afterwards (POST /networks/{id}/connect)")
        }
        let name = names[0]
        let mode = hostNetworkMode.flatMap { $0.isEmpty ? nil : $0 }
        if mode == nil, name != "default" { config.network = name }
        let wanted = mode == nil || mode == "default" ? (name == "default" ? "bridge" : name) : mode!
        guard (name == "default" ? "bridge" : name) == wanted || name == mode else {
            throw .badParameter("invalid field NetworkingConfig.EndpointsConfig: \(name) is not the container's network \(config.network)")
        }
        guard let endpoint = try endpoints.object(name) else { return }
        try endpoint.refuseFields(except: endpointFields)
        if let ipam = try endpoint.object("IPAMConfig") {
            try ipam.refuseFields(except: [])
        }
        if let aliases = try endpoint.strings("Aliases"), !aliases.isEmpty { config.networkAliases = aliases }
    }
}
