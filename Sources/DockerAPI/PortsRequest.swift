import CaissonJSON
import Engine

/// The create body's ports: Config.ExposedPorts (`{"80/tcp": {}}`, merged by the engine
/// with the image's), HostConfig.PortBindings (`{"80/tcp": [{"HostIp": "", "HostPort":
/// "8080"}]}`, an empty HostPort for a free one) and PublishAllPorts.
enum PortsRequest {
    static func apply(_ body: JSONBody, host: JSONBody?, to config: inout ContainerConfig) throws(DockerAPIError) {
        var exposed: [String] = []
        for (key, _) in try body.fields("ExposedPorts") ?? [] {
            guard let (port, proto) = PortPublishing.parseExposed(key) else {
                throw .badParameter("invalid field ExposedPorts: \"\(key)\" is not PORT/PROTOCOL (80/tcp)")
            }
            exposed.append("\(port)/\(proto)")
        }
        if !exposed.isEmpty { config.exposedPorts = exposed }
        guard let host else { return }
        config.publishAll = try host.bool("PublishAllPorts") ?? false
        for (key, value) in try host.fields("PortBindings") ?? [] {
            guard let (port, proto) = PortPublishing.parseExposed(key) else {
                throw .badParameter("invalid field HostConfig.PortBindings: \"\(key)\" is not PORT/PROTOCOL (80/tcp)")
            }
            let bindings: [JSONValue]
            switch value {
            case .null: bindings = []
            case .array(let items): bindings = items
            default: throw .badParameter("invalid field HostConfig.PortBindings: \(key): expected an array of bindings")
            }
            for binding in bindings {
                guard case .object(let object) = binding else {
                    throw .badParameter("invalid field HostConfig.PortBindings: \(key): expected an array of bindings")
                }
                let item = JSONBody(object: object, prefix: "HostConfig.PortBindings.\(key).")
                try item.refuseFields(except: ["HostIp", "HostPort"])
                let text = try item.string("HostPort") ?? ""
                var hostPort = 0
                if !text.isEmpty {
                    let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                    guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, bounds.count <= 2, low > 0, low < 65536 else {
                        throw .badParameter("invalid field HostConfig.PortBindings: \(key): host port \"\(text)\" is not a port number")
                    }
                    guard low == high else {
                        throw .badParameter("invalid field HostConfig.PortBindings: \(key): host port range \(text) is not supported; give one port, or none for a free one")
                    }
                    hostPort = low
                }
                config.ports.append(PortMapping(hostIP: try item.string("HostIp") ?? "", hostPort: hostPort, containerPort: port, proto: proto))
            }
        }
    }
}
