/// Which ports a container exposes and which host ports it gets, decided once at create
/// for every front end: the requested bindings (`-p`, HostConfig.PortBindings) with a free
/// host port where none was given, and with `publishAll` (`-P`) every exposed port (the
/// image's, `--expose`'s and the bound ones) not bound yet.
public enum PortPublishing {
    /// "80", "80/tcp", "53/udp" as (port, protocol); nil when it is not one.
    public static func parseExposed(_ text: String) -> (port: Int, proto: String)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let port = Int(parts[0]), port > 0, port < 65536 else { return nil }
        let proto = parts.count == 2 ? String(parts[1]) : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else { return nil }
        return (port, proto)
    }

    /// The container's exposed ports as docker lists them ("80/tcp"), sorted: the image's,
    /// the configuration's and every bound one.
    public static func exposed(_ config: ContainerConfig, image: [String]) -> [String] {
        var ports = Set<String>()
        for text in image + (config.exposedPorts ?? []) {
            if let (port, proto) = parseExposed(text) { ports.insert("\(port)/\(proto)") }
        }
        for mapping in config.ports { ports.insert("\(mapping.containerPort)/\(mapping.proto)") }
        return ports.sorted { lhs, rhs in
            let l = parseExposed(lhs)!, r = parseExposed(rhs)!
            return l.port != r.port ? l.port < r.port : l.proto < r.proto
        }
    }

    /// The bindings to set up: each requested one (host port 0 becomes a free port), then
    /// with `publishAll` a free host port for each exposed port that has no binding.
    static func published(_ config: ContainerConfig, image: [String]) throws(EngineError) -> [PortMapping] {
        var published: [PortMapping] = []
        for var mapping in config.ports {
            guard mapping.containerPort > 0, mapping.containerPort < 65536, mapping.hostPort >= 0, mapping.hostPort < 65536 else {
                throw .invalidSetting(.publish, "invalid port \(mapping.hostPort):\(mapping.containerPort)")
            }
            guard mapping.hostIP.isEmpty || ContainerEngine.isIPv4(mapping.hostIP) else {
                throw .invalidSetting(.publish, "host address \(mapping.hostIP) of port \(mapping.containerPort)/\(mapping.proto) is not an IPv4 address (IPv6 is not supported)")
            }
            if mapping.hostIP == "0.0.0.0" { mapping.hostIP = "" }
            if mapping.hostPort == 0 { mapping.hostPort = ContainerEngine.freePort() }
            if published.contains(where: { $0.hostPort == mapping.hostPort && $0.proto == mapping.proto }) {
                throw .invalidSetting(.publish, "host port \(mapping.hostPort)/\(mapping.proto) is bound twice")
            }
            published.append(mapping)
        }
        guard config.publishAll else { return published }
        for text in exposed(config, image: image) {
            guard let (port, proto) = parseExposed(text),
                  !published.contains(where: { $0.containerPort == port && $0.proto == proto }) else { continue }
            published.append(PortMapping(hostPort: ContainerEngine.freePort(), containerPort: port, proto: proto))
        }
        return published
    }
}

extension ContainerEngine {
    /// A dotted IPv4 address.
    public static func isIPv4(_ text: String) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { octet in
            !octet.isEmpty && octet.count <= 3 && octet.allSatisfy(\.isASCII) && (UInt8(octet).map { _ in true } ?? false)
        }
    }

    /// An IPv4 or IPv6 address (IPv6 by its characters: hex digits, colons, an IPv4 tail).
    public static func isIPAddress(_ text: String) -> Bool {
        if isIPv4(text) { return true }
        guard text.contains(":"), text.count <= 45 else { return false }
        return text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}
