#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// `network connect` and `network disconnect`: further bridge networks for a container,
/// each on its own interface (eth1, eth2, ...) of the container's network namespace,
/// attached at once when the container runs and at every start otherwise.
extension ContainerEngine {
    public func connect(_ containerID: String, to networkName: String, aliases: [String] = []) throws(EngineError) {
        for alias in aliases where alias.isEmpty || !alias.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) {
            throw .invalidSetting(.networkAlias, "invalid network alias \"\(alias)\"")
        }
        var record = try find(containerID)
        let network = try network(named: networkName)
        if record.config.leftNetwork == true, record.config.network == "none", !state(of: record).isRunning {
            // Back on a network after leaving the one it was made on: this is its network now.
            record.config.network = network.name
            record.config.networkAliases = aliases.isEmpty ? nil : aliases
            record.config.leftNetwork = nil
            try store.update(record)
            refreshHosts(network: network.name)
            networkEvent("connect", network, container: record.id)
            return
        }
        guard record.config.network != "host", record.config.network != "none", record.netnsPath != nil else {
            throw .invalid("container \(record.name) uses network mode \(record.config.network) and cannot be connected to other networks")
        }
        if record.allNetworks.contains(where: { $0.name == network.name }) {
            throw .invalid("endpoint with name \(record.name) already exists in network \(network.name)")
        }
        let taken = Set((record.connections ?? []).map(\.interface))
        let interface = (1...).lazy.map { "eth\($0)" }.first { !taken.contains($0) }!
        var connection = NetworkConnection(network: network.name, interface: interface, aliases: aliases.isEmpty ? nil : aliases)
        if state(of: record).isRunning, let netns = record.netnsPath, ContainerEngine.namespaceExists(netns) {
            connection = try attach(connection, network: network, record: record, netns: netns)
        }
        record.connections = (record.connections ?? []) + [connection]
        try store.update(record)
        writeEventNetworks(record)
        refreshHosts(network: network.name)
        networkEvent("connect", network, container: record.id)
    }

    public func disconnect(_ containerID: String, from networkName: String) throws(EngineError) {
        var record = try find(containerID)
        if record.config.network == networkName, !state(of: record).isRunning, networkName != "host", networkName != "none" {
            // Not running, it has no address there yet: it leaves the network, as docker allows.
            record.config.network = "none"
            record.config.networkAliases = nil
            record.config.leftNetwork = true
            record.ipAddress = nil
            record.gateway = nil
            record.macAddress = nil
            try store.update(record)
            refreshHosts(network: networkName)
            if let network = try? network(named: networkName) { networkEvent("disconnect", network, container: record.id) }
            return
        }
        if record.config.network == networkName {
            throw .invalid("container \(record.name) was created on network \(networkName) and cannot leave it; "
                           + "recreate it with another --network, or connect it to further networks")
        }
        guard let index = (record.connections ?? []).firstIndex(where: { $0.network == networkName }) else {
            throw .invalid("container \(record.name) is not connected to network \(networkName)")
        }
        let connection = record.connections![index]
        if let netns = record.netnsPath, connection.ipAddress != nil, let network = try? network(named: networkName) {
            cni.delete(network, containerID: record.id, netns: netns, ports: [], cacheDirectory: directory(of: record.id),
                       interface: connection.interface)
        }
        record.connections!.remove(at: index)
        try store.update(record)
        writeEventNetworks(record)
        refreshHosts(network: networkName)
        refreshHosts(network: record.config.network)
        if let network = try? network(named: networkName) { networkEvent("disconnect", network, container: record.id) }
    }

    /// CNI ADD of one further network on its interface.
    func attach(_ connection: NetworkConnection, network: NetworkRecord, record: ContainerRecord,
                netns: String) throws(EngineError) -> NetworkConnection {
        var connection = connection
        let attachment = try cni.add(network, containerID: record.id, netns: netns, ports: [],
                                     cacheDirectory: directory(of: record.id), interface: connection.interface)
        connection.ipAddress = attachment.address
        connection.macAddress = attachment.mac
        return connection
    }

    /// At start: the further networks of a container whose namespace is new.
    func attachConnections(_ record: ContainerRecord) throws(EngineError) -> ContainerRecord {
        guard let connections = record.connections, !connections.isEmpty, let netns = record.netnsPath else { return record }
        var record = record
        var attached: [NetworkConnection] = []
        for connection in connections {
            guard let network = try? network(named: connection.network) else { continue }
            attached.append(try attach(NetworkConnection(network: connection.network, interface: connection.interface, aliases: connection.aliases),
                                       network: network, record: record, netns: netns))
        }
        record.connections = attached
        try store.update(record)
        return record
    }

    /// At tear-down: CNI DEL of the further networks (the namespace may already be gone).
    func detachConnections(_ record: ContainerRecord, netns: String, cacheDirectory: String) {
        for connection in record.connections ?? [] {
            guard let network = try? network(named: connection.network) else { continue }
            cni.delete(network, containerID: record.id, netns: netns, ports: [], cacheDirectory: cacheDirectory,
                       interface: connection.interface)
        }
    }
}
