import CaissonJSON
import CaissonSys
import CRIProto
import Engine

/// The pod network: the CNI configuration the administrator put in the configuration
/// directory (the first `.conflist`, `.conf` or `.json` by name, as containerd and CRI-O
/// choose), run for each pod with the kubelet's CNI_ARGS and port mappings.
struct PodNetwork: Sendable {
    let configDirectory: String
    let cni: CNI
    let cacheDirectory: String

    /// The configuration list to use, or an error saying why there is none.
    func configurationList() throws(CRIError) -> JSONObject {
        let names = ((try? Files.listDirectory(configDirectory)) ?? []).filter {
            $0.hasSuffix(".conflist") || $0.hasSuffix(".conf") || $0.hasSuffix(".json")
        }.sorted()
        guard let first = names.first else {
            throw .failedPrecondition("no CNI network configuration in \(configDirectory)")
        }
        let path = configDirectory + "/" + first
        guard let bytes = try? Files.readBytes(path) else { throw .failed("cannot read \(path)") }
        guard case .object(var object)? = try? JSONParser.parse(bytes) else {
            throw .failed("\(path) is not a JSON object")
        }
        if object["plugins"] == nil {
            // A single-plugin .conf: a list of one.
            var list = JSONObject()
            list.set("cniVersion", object["cniVersion"] ?? .string(CNI.version))
            list.set("name", object["name"] ?? .string("cni"))
            list.set("plugins", .array([.object(object)]))
            object = list
        }
        guard case .string? = object["name"] else { throw .failed("\(path) has no network name") }
        return object
    }

    /// Attaches the pod's namespace; returns its IP addresses (IPv4 first).
    func attach(sandbox: SandboxRecord, netns: String, portMappings: [Runtime_V1_PortMapping]) throws(CRIError) -> [String] {
        let list = try configurationList()
        var runtimeConfig = JSONObject()
        runtimeConfig.set("portMappings", .array(portMappings.filter { $0.hostPort > 0 }.map { mapping in
            var entry = JSONObject()
            entry.set("hostPort", .number(String(mapping.hostPort)))
            entry.set("containerPort", .number(String(mapping.containerPort)))
            entry.set("protocol", .string(PodNetwork.protocolName(mapping.protocol)))
            if !mapping.hostIp.isEmpty { entry.set("hostIP", .string(mapping.hostIp)) }
            return .object(entry)
        }))
        let args = PodNetwork.arguments(sandbox)
        let result: JSONValue?
        do {
            try Files.makeDirectories(cacheDirectory, mode: 0o700)
            result = try cni.add(list: list, containerID: sandbox.id, netns: netns, args: args,
                                 runtimeConfig: runtimeConfig, cacheFile: cacheFile(sandbox.id))
        } catch {
            throw .failed("failed to set up the pod network: \(error)")
        }
        var addresses: [String] = []
        if case .object(let object)? = result, case .array(let ips)? = object["ips"] {
            for case .object(let ip) in ips {
                if case .string(let address)? = ip["address"], let bare = address.split(separator: "/").first {
                    addresses.append(String(bare))
                }
            }
        }
        return addresses.sorted { !$0.contains(":") && $1.contains(":") }
    }

    /// The kubelet's CNI_ARGS for a pod.
    static func arguments(_ sandbox: SandboxRecord) -> [(String, String)] {
        [("IgnoreUnknown", "1"), ("K8S_POD_NAMESPACE", sandbox.namespace), ("K8S_POD_NAME", sandbox.name),
         ("K8S_POD_INFRA_CONTAINER_ID", sandbox.id), ("K8S_POD_UID", sandbox.uid)]
    }

    /// Detaches: DEL with the cached list and result, or, when the ADD never finished
    /// (the daemon died during RunPodSandbox), with the configured list, so the plugins
    /// still release what they hold for the pod (its address lease, its veth).
    func detach(sandbox: SandboxRecord, netns: String) throws(CRIError) {
        do {
            if Files.exists(cacheFile(sandbox.id)) {
                try cni.delete(cachedIn: cacheFile(sandbox.id), containerID: sandbox.id, netns: netns)
            } else {
                try cni.delete(list: try configurationList(), containerID: sandbox.id, netns: netns,
                               args: PodNetwork.arguments(sandbox), runtimeConfig: JSONObject())
            }
        } catch {
            throw .failed("failed to tear down the pod network: \(error)")
        }
    }

    func cacheFile(_ id: String) -> String { cacheDirectory + "/" + id + ".json" }

    static func protocolName(_ value: Runtime_V1_Protocol) -> String {
        switch value {
        case .udp: return "udp"
        case .sctp: return "sctp"
        default: return "tcp"
        }
    }
}
