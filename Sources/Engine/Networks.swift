#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonShim
import CaissonSys

/// A bridge network: a Linux bridge, a /24 subnet, and the CNI configuration list
/// (bridge + host-local IPAM, portmap) that attaches containers to it.
public struct NetworkRecord: Codable, Sendable, Equatable {
    public var name: String
    public var id: String
    public var driver: String
    public var bridge: String
    public var subnet: String
    public var gateway: String
    public var created: String
    public var labels: [String: String] = [:]
}

/// A container's place on a network, as the CNI bridge plugin reported it.
public struct NetworkAttachment: Sendable, Equatable {
    public var address: String
    public var gateway: String
    public var mac: String?
}

/// Creates network namespaces and runs CNI plugins (containernetworking-plugins, in
/// /usr/lib/cni: bridge, host-local, portmap) per the CNI spec: ADD through the list with each result as the next
/// plugin's prevResult, DEL in reverse with the cached result. `lo` is brought up by the
/// namespace helper itself.
public struct CNI: Sendable {
    public let pluginDirectories: [String]
    public let stateDirectory: String
    /// `caisson-monitor`, which creates namespaces (that needs a single-threaded process).
    public let helper: String
    /// Where per-boot markers live (under the run root, a tmpfs).
    public let markerDirectory: String

    public static let version = "1.0.0"

    public init(pluginDirectories: [String], stateDirectory: String, helper: String, markerDirectory: String) {
        self.pluginDirectories = pluginDirectories
        self.stateDirectory = stateDirectory
        self.helper = helper
        self.markerDirectory = markerDirectory
    }

    /// The configuration list of a network: bridge with host-local IPAM, and portmap when
    /// ports are published. Masquerading and forwarding are rules per network
    /// (`ensureNetworkRules`, as docker has them per bridge) rather than the bridge
    /// plugin's chain and the firewall plugin's rules per container, which cost a dozen
    /// iptables runs (about 80 ms here) on every container start and stop.
    func configuration(for network: NetworkRecord, publishing: Bool) -> JSONObject {
        var ipam = JSONObject()
        ipam.set("type", .string("host-local"))
        ipam.set("dataDir", .string(stateDirectory + "/ipam"))
        var range = JSONObject()
        range.set("subnet", .string(network.subnet))
        range.set("gateway", .string(network.gateway))
        ipam.set("ranges", .array([.array([.object(range)])]))
        var route = JSONObject()
        route.set("dst", .string("0.0.0.0/0"))
        ipam.set("routes", .array([.object(route)]))
        var bridge = JSONObject()
        bridge.set("type", .string("bridge"))
        bridge.set("bridge", .string(network.bridge))
        bridge.set("isGateway", .bool(true))
        bridge.set("ipMasq", .bool(false))
        bridge.set("hairpinMode", .bool(true))
        bridge.set("ipam", .object(ipam))
        var portmap = JSONObject()
        portmap.set("type", .string("portmap"))
        var capabilities = JSONObject()
        capabilities.set("portMappings", .bool(true))
        portmap.set("capabilities", .object(capabilities))
        var list = JSONObject()
        list.set("cniVersion", .string(CNI.version))
        list.set("name", .string(network.name))
        list.set("plugins", .array(publishing ? [.object(bridge), .object(portmap)] : [.object(bridge)]))
        return list
    }

    // MARK: Namespaces

    public func createNamespace(at path: String) throws(EngineError) {
        do {
            try Files.makeDirectories(Paths.parent(path), mode: 0o755)
            let result = try Spawn.capture([helper, "netns-create", path])
            guard result.status == 0 else {
                throw EngineError.network("cannot create network namespace \(path): \(String(decoding: result.error, as: UTF8.self))")
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .network("cannot create network namespace \(path): \(error)")
        }
    }

    public func removeNamespace(at path: String) {
        umount2(path, Int32(MNT_DETACH))
        unlink(path)
    }

    // MARK: Plugins

    private func plugin(_ type: String) throws(EngineError) -> String {
        guard type.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw .network("invalid CNI plugin type \"\(type)\"")
        }
        for directory in pluginDirectories where access(directory + "/" + type, X_OK) == 0 {
            return directory + "/" + type
        }
        throw .network("CNI plugin \(type) not found in \(pluginDirectories.joined(separator: ":")) (install containernetworking-plugins)")
    }

    /// Runs one plugin; returns its result document (nil for DEL).
    private func invoke(_ command: String, config: JSONObject, containerID: String, netns: String,
                        interface: String, args: String = "") throws(EngineError) -> JSONValue? {
        guard case .string(let type)? = config["type"] else { throw .network("CNI configuration without a type") }
        let executable = try plugin(type)
        let input = JSONEncoding.serialize(.object(config))
        var pipeFDs: [Int32] = [-1, -1]
        // Close-on-exec from birth (pipe2): a monitor spawned meanwhile by another thread
        // must not inherit the write end, or the plugin never sees the end of its input.
        guard caisson_pipe2(&pipeFDs, O_CLOEXEC) == 0 else { throw .system(SysError("pipe")) }
        try? Files.writeAll(fd: pipeFDs[1], bytes: input)
        close(pipeFDs[1])
        defer { close(pipeFDs[0]) }
        var environment = ["CNI_COMMAND=\(command)", "CNI_CONTAINERID=\(containerID)", "CNI_NETNS=\(netns)",
                           "CNI_IFNAME=\(interface)", "CNI_PATH=\(pluginDirectories.joined(separator: ":"))",
                           "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        if !args.isEmpty { environment.append("CNI_ARGS=\(args)") }
        if let xdg = getenv("XTABLES_LOCKFILE") { environment.append("XTABLES_LOCKFILE=\(String(cString: xdg))") }
        let result: (status: Int32, output: [UInt8], error: [UInt8])
        do {
            result = try Spawn.captureWithEnvironment([executable], environment: environment, stdin: pipeFDs[0])
        } catch {
            throw .network("CNI plugin \(type): \(error)")
        }
        let parsed = try? JSONParser.parse(result.output)
        guard result.status == 0 else {
            var message = String(decoding: result.error, as: UTF8.self)
            if case .object(let object)? = parsed {
                if case .string(let text)? = object["msg"] { message = text }
                if case .string(let details)? = object["details"], !details.isEmpty { message += ": " + details }
            }
            throw .network("CNI plugin \(type) \(command) failed: \(message)")
        }
        return command == "DEL" ? nil : parsed
    }

    /// Attaches a namespace to a network; the result is cached for DEL.
    public func add(_ network: NetworkRecord, containerID: String, netns: String, ports: [PortMapping],
                    cacheDirectory: String, interface: String = "eth0") throws(EngineError) -> NetworkAttachment {
        try ensureNetworkRules(network)
        var list = configuration(for: network, publishing: !ports.isEmpty)
        guard case .array(let plugins)? = list["plugins"] else { throw .network("bad CNI configuration") }
        var previous: JSONValue?
        var added: [JSONObject] = []
        do {
            for case .object(var plugin) in plugins {
                plugin.set("cniVersion", .string(CNI.version))
                plugin.set("name", .string(network.name))
                if let previous { plugin.set("prevResult", previous) }
                if case .string("portmap")? = plugin["type"] { plugin.set("runtimeConfig", CNI.portMappings(ports)) }
                added.append(plugin)
                previous = try invoke("ADD", config: plugin, containerID: containerID, netns: netns, interface: interface) ?? previous
            }
        } catch {
            // Undo what was added, in reverse.
            for plugin in added.reversed() {
                _ = try? invoke("DEL", config: plugin, containerID: containerID, netns: netns, interface: interface)
            }
            throw error
        }
        list.set("cachedResult", previous ?? .null)
        try? Files.write(cacheDirectory + "/cni-\(network.name).json", bytes: JSONEncoding.serialize(.object(list)))
        return try CNI.attachment(from: previous, interface: interface)
    }

    /// Detaches (DEL through the list in reverse, with the cached result and ports): the
    /// list that was used for ADD, as cached, so a change of defaults cannot skip a plugin.
    public func delete(_ network: NetworkRecord, containerID: String, netns: String, ports: [PortMapping], cacheDirectory: String,
                       interface: String = "eth0") {
        let cache = cacheDirectory + "/cni-\(network.name).json"
        var cached: JSONValue?
        var list = configuration(for: network, publishing: !ports.isEmpty)
        if let bytes = try? Files.readBytes(cache), case .object(let object)? = try? JSONParser.parse(bytes) {
            cached = object["cachedResult"]
            list = object
        } else {
            CNI.stopInterruptedAdds(containerID: containerID)
        }
        guard case .array(let plugins)? = list["plugins"] else { return }
        for case .object(var plugin) in plugins.reversed() {
            plugin.set("cniVersion", .string(CNI.version))
            plugin.set("name", .string(network.name))
            if let cached, cached != .null { plugin.set("prevResult", cached) }
            if case .string("portmap")? = plugin["type"] { plugin.set("runtimeConfig", CNI.portMappings(ports)) }
            _ = try? invoke("DEL", config: plugin, containerID: containerID, netns: netns, interface: interface)
        }
        unlink(cache)
    }

    // MARK: Configuration lists from elsewhere (the CRI's CNI configuration directory)

    /// ADD through a configuration list written by someone else (the kubelet's admin):
    /// each plugin gets the list's name and version, the previous result, and the
    /// `runtimeConfig` entries its `capabilities` ask for. The list and result are cached
    /// in `cacheFile` for `delete(cachedIn:)`. On failure, what was added is deleted.
    public func add(list: JSONObject, containerID: String, netns: String, args: [(String, String)],
                    runtimeConfig: JSONObject, cacheFile: String) throws(EngineError) -> JSONValue? {
        guard case .array(let plugins)? = list["plugins"], !plugins.isEmpty else {
            throw .network("the CNI configuration list has no plugins")
        }
        let argText = args.map { "\($0.0)=\($0.1)" }.joined(separator: ";")
        var previous: JSONValue?
        var added: [JSONObject] = []
        do {
            for case .object(let plugin) in plugins {
                let prepared = CNI.prepare(plugin, list: list, runtimeConfig: runtimeConfig, previous: previous)
                added.append(prepared)
                previous = try invoke("ADD", config: prepared, containerID: containerID, netns: netns, interface: "eth0",
                                      args: argText) ?? previous
            }
        } catch {
            for plugin in added.reversed() {
                _ = try? invoke("DEL", config: plugin, containerID: containerID, netns: netns, interface: "eth0", args: argText)
            }
            throw error
        }
        var cache = list
        cache.set("cachedResult", previous ?? .null)
        cache.set("cachedRuntimeConfig", .object(runtimeConfig))
        cache.set("cachedArgs", .string(argText))
        try? Files.write(cacheFile, bytes: JSONEncoding.serialize(.object(cache)))
        return previous
    }

    /// DEL through the list cached by `add(list:...)`, in reverse; then forgets it. Errors
    /// are reported but every plugin is asked.
    public func delete(cachedIn cacheFile: String, containerID: String, netns: String) throws(EngineError) {
        guard let bytes = try? Files.readBytes(cacheFile), case .object(let list)? = try? JSONParser.parse(bytes) else { return }
        var runtimeConfig = JSONObject()
        if case .object(let cached)? = list["cachedRuntimeConfig"] { runtimeConfig = cached }
        var argText = ""
        if case .string(let cached)? = list["cachedArgs"] { argText = cached }
        let previous: JSONValue? = list["cachedResult"] == .null ? nil : list["cachedResult"]
        try delete(list: list, containerID: containerID, netns: netns, argText: argText, runtimeConfig: runtimeConfig,
                   previous: previous)
        unlink(cacheFile)
    }

    /// DEL through a configuration list with no cached result: for an ADD that was
    /// interrupted before it could be cached (the plugins release by container id).
    public func delete(list: JSONObject, containerID: String, netns: String, args: [(String, String)],
                       runtimeConfig: JSONObject) throws(EngineError) {
        try delete(list: list, containerID: containerID, netns: netns,
                   argText: args.map { "\($0.0)=\($0.1)" }.joined(separator: ";"), runtimeConfig: runtimeConfig, previous: nil)
    }

    private func delete(list: JSONObject, containerID: String, netns: String, argText: String, runtimeConfig: JSONObject,
                        previous: JSONValue?) throws(EngineError) {
        guard case .array(let plugins)? = list["plugins"] else { return }
        if previous == nil { CNI.stopInterruptedAdds(containerID: containerID) }
        var failure: EngineError?
        for case .object(let plugin) in plugins.reversed() {
            let prepared = CNI.prepare(plugin, list: list, runtimeConfig: runtimeConfig, previous: previous)
            do {
                _ = try invoke("DEL", config: prepared, containerID: containerID, netns: netns, interface: "eth0", args: argText)
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }

    /// An ADD with no cached result may still be running: its caller was killed, but the
    /// plugin it ran goes on and would take an address after our DEL released it. Such
    /// plugins (by their CNI environment) are killed before the DEL, which then undoes
    /// whatever they had done. Only on this rare path: it reads every process's environment.
    static func stopInterruptedAdds(containerID: String) {
        let wanted = ["CNI_COMMAND=ADD", "CNI_CONTAINERID=" + containerID]
        var stray: [Int32] = []
        for entry in (try? Files.listDirectory("/proc")) ?? [] {
            guard let pid = Int32(entry), pid != getpid(),
                  let environment = try? Files.readBytes("/proc/\(entry)/environ") else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if wanted.allSatisfy(variables.contains) { stray.append(pid) }
        }
        for pid in stray { kill(pid, SIGKILL) }
        for pid in stray {
            for _ in 0..<200 where kill(pid, 0) == 0 && Processes.state(of: pid) != "Z" { Clock.sleep(milliseconds: 5) }
        }
    }

    static func prepare(_ plugin: JSONObject, list: JSONObject, runtimeConfig: JSONObject, previous: JSONValue?) -> JSONObject {
        var prepared = plugin
        prepared.set("cniVersion", list["cniVersion"] ?? .string(CNI.version))
        prepared.set("name", list["name"] ?? .string("cni"))
        if let previous { prepared.set("prevResult", previous) }
        if case .object(let capabilities)? = plugin["capabilities"] {
            var selected = JSONObject()
            for key in capabilities.keys where capabilities[key] == .bool(true) {
                if let given = runtimeConfig[key] { selected.set(key, given) }
            }
            if !selected.keys.isEmpty { prepared.set("runtimeConfig", .object(selected)) }
        }
        return prepared
    }

    // MARK: Masquerading and forwarding, rules per network

    /// iptables rules of a network: (table, chain, rule).
    private func networkRules(_ network: NetworkRecord) -> [(String, String, [String])] {
        let comment = ["-m", "comment", "--comment", "caisson:\(network.name)"]
        return [
            ("nat", "POSTROUTING", ["-s", network.subnet, "!", "-d", network.subnet, "-j", "MASQUERADE"] + comment),
            ("filter", "FORWARD", ["-i", network.bridge, "-j", "ACCEPT"] + comment),
            ("filter", "FORWARD", ["-o", network.bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"] + comment),
        ]
    }

    /// Installs the network's masquerade and forward rules once per boot (a marker under
    /// the run root, which is tmpfs like the rules themselves).
    func ensureNetworkRules(_ network: NetworkRecord) throws(EngineError) {
        let marker = markerDirectory + "/rules-\(network.name)-\(network.id.prefix(12))"
        if Files.exists(marker) { return }
        for (table, chain, rule) in networkRules(network) {
            let check = try? Spawn.capture(["/usr/sbin/iptables", "-t", table, "-C", chain] + rule)
            if check?.status == 0 { continue }
            let insert = chain == "FORWARD" ? ["-I", chain, "1"] : ["-A", chain]
            guard let added = try? Spawn.capture(["/usr/sbin/iptables", "-t", table] + insert + rule), added.status == 0 else {
                throw .network("cannot add the iptables rules of network \(network.name) (is iptables installed?)")
            }
        }
        try? Files.makeDirectories(markerDirectory, mode: 0o755)
        try? Files.write(marker, "")
    }

    func removeNetworkRules(_ network: NetworkRecord) {
        for (table, chain, rule) in networkRules(network) {
            _ = try? Spawn.capture(["/usr/sbin/iptables", "-t", table, "-D", chain] + rule)
        }
        unlink(markerDirectory + "/rules-\(network.name)-\(network.id.prefix(12))")
    }

    /// The `runtimeConfig` the portmap plugin reads (its `portMappings` capability).
    static func portMappings(_ ports: [PortMapping]) -> JSONValue {
        var runtime = JSONObject()
        runtime.set("portMappings", .array(ports.map { port in
            var mapping = JSONObject()
            mapping.set("hostPort", .number(String(port.hostPort)))
            mapping.set("containerPort", .number(String(port.containerPort)))
            mapping.set("protocol", .string(port.proto))
            if !port.hostIP.isEmpty { mapping.set("hostIP", .string(port.hostIP)) }
            return .object(mapping)
        }))
        return .object(runtime)
    }

    static func attachment(from result: JSONValue?, interface name: String = "eth0") throws(EngineError) -> NetworkAttachment {
        guard case .object(let object)? = result, case .array(let ips)? = object["ips"],
              case .object(let first)? = ips.first, case .string(let address)? = first["address"] else {
            throw .network("the CNI result names no IP address")
        }
        var gateway = ""
        if case .string(let value)? = first["gateway"] { gateway = value }
        var mac: String?
        if case .array(let interfaces)? = object["interfaces"] {
            for case .object(let interface) in interfaces {
                if case .string(name)? = interface["name"], case .string(let value)? = interface["mac"] { mac = value }
            }
        }
        return NetworkAttachment(address: String(address.split(separator: "/")[0]), gateway: gateway, mac: mac)
    }
}
