#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import ImageSpec

extension ContainerEngine {
    public static let defaultNetwork = "bridge"

    /// A network by name; the default `bridge` network is made on first use.
    public func network(named name: String) throws(EngineError) -> NetworkRecord {
        if let found = try store.networks().first(where: { $0.name == name || $0.id.hasPrefix(name) && name.count >= 6 }) {
            return found
        }
        guard name == ContainerEngine.defaultNetwork else { throw .noSuchNetwork(name) }
        do {
            return try createNetwork(name: name, subnet: nil)
        } catch .networkExists {
            guard let found = try store.networks().first(where: { $0.name == name }) else { throw .noSuchNetwork(name) }
            return found
        }
    }

    /// `network create`: a bridge and a /24 (or the given subnet, whose .1 is the gateway).
    public func createNetwork(name: String, subnet requested: String?, labels: [String: String] = [:]) throws(EngineError) -> NetworkRecord {
        guard ContainerEngine.isValidName(name), name != "host", name != "none" || name == ContainerEngine.defaultNetwork else {
            throw .invalid("invalid network name \"\(name)\"")
        }
        let id = ContainerEngine.randomID()
        let root = options.root
        var reserved: String?
        defer { events.record(type: "network", action: "create", id: id, attributes: ["name": name, "type": "bridge"]) }
        do {
        return try store.insertNetwork(named: name) { existing in
            // Subnets of this root's networks, and those the host routes already (another
            // root's networks, or the host's own): a new network gets neither.
            let used = Set(existing.map(\.subnet))
            let routed = requested == nil ? ContainerEngine.routedSubnets() : []
            var subnet: String
            var gateway: String
            if let requested {
                guard let parsed = ContainerEngine.parseSubnet(requested) else {
                    throw EngineError.invalid("invalid subnet \"\(requested)\": expected A.B.C.D/N with N between 8 and 28")
                }
                subnet = parsed.subnet
                gateway = parsed.gateway
                if used.contains(subnet) { throw EngineError.invalid("subnet \(subnet) is used by another network") }
                guard SubnetReservations.reserve(subnet, root: root, id: id) else {
                    throw EngineError.invalid("subnet \(subnet) is used by a network of another Caisson root on this host")
                }
            } else {
                // The first subnet nobody here, no route and no other root has; another root
                // taking it at this moment makes us go on to the next.
                let candidates = (name == ContainerEngine.defaultNetwork ? [0] : []) + Array(1..<255)
                let index = candidates.first { index in
                    let candidate = "10.89.\(index).0/24"
                    return !used.contains(candidate) && !routed.contains(candidate)
                        && SubnetReservations.reserve(candidate, root: root, id: id)
                } ?? 254
                subnet = "10.89.\(index).0/24"
                gateway = "10.89.\(index).1"
            }
            reserved = subnet
            // Named after the network's random id (as docker's br-<id>): a name chosen as the
            // first one free on the host could be chosen by another root at the same time,
            // before either bridge exists, and removing one network then removed the other's.
            let bridge = "cs-" + String(id.prefix(12))
            return NetworkRecord(name: name, id: id, driver: "bridge", bridge: bridge, subnet: subnet, gateway: gateway,
                                 created: Clock.rfc3339Now(), labels: labels)
        }
        } catch {
            if let reserved { SubnetReservations.release(reserved, root: root, id: id) }
            throw error
        }
    }

    static func parseSubnet(_ text: String) -> (subnet: String, gateway: String)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), bits >= 8, bits <= 28 else { return nil }
        let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        let address = octets.reduce(0) { $0 << 8 | $1 }
        let network = address & ~((1 << (32 - UInt32(bits))) - 1)
        func dotted(_ value: UInt32) -> String { "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255).\(value & 255)" }
        return ("\(dotted(network))/\(bits)", dotted(network + 1))
    }

    /// The IPv4 subnets the host routes to (from /proc/net/route), as `A.B.C.D/N`.
    static func routedSubnets() -> Set<String> {
        guard let table = try? Files.readString("/proc/net/route") else { return [] }
        var subnets = Set<String>()
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count > 7, let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16) else { continue }
            // Little-endian words: the first octet is the lowest byte.
            let octets = (0..<4).map { (destination >> (8 * $0)) & 0xff }
            subnets.insert(octets.map(String.init).joined(separator: ".") + "/\(mask.nonzeroBitCount)")
        }
        return subnets
    }

    /// `network rm`: refused while containers use it; the bridge goes with it.
    public func removeNetwork(_ name: String) throws(EngineError) {
        let network = try network(named: name)
        if try store.containers().contains(where: { $0.allNetworks.contains { $0.name == network.name } }) {
            throw .networkInUse(network.name)
        }
        try store.deleteNetwork(network.name)
        cni.removeNetworkRules(network)
        _ = try? Spawn.capture(["/usr/sbin/ip", "link", "delete", network.bridge])
        SubnetReservations.release(network.subnet, root: options.root, id: network.id)
        try? Files.removeTree(options.runRoot + "/cni/ipam/" + network.name)
        events.record(type: "network", action: "destroy", id: network.id, attributes: ["name": network.name, "type": "bridge"])
    }

    static func namespaceExists(_ path: String) -> Bool {
        var type: Int64 = 0
        return caisson_filesystem_type(path, &type) == 0 && type == 0x6e73_6673 /* NSFS_MAGIC */
    }

    /// Creates the container's network namespace (if it has none) and checks its ports;
    /// returns the network to attach it to, or nil when nothing is left to do.
    func prepareNamespace(_ record: ContainerRecord) throws(EngineError) -> NetworkRecord? {
        guard let netns = record.netnsPath else { return nil }
        if ContainerEngine.namespaceExists(netns) {
            if record.ipAddress != nil || record.config.network == "none" { return nil }
            // A start that died between attaching and recording the address: undo its
            // attachment (the lease, the veth) and start over.
            tearDownNetwork(record)
            unlink(netns)
            try cni.createNamespace(at: netns)
        } else {
            unlink(netns)
            try cni.createNamespace(at: netns)
        }
        guard record.config.network != "none" else { return nil }
        let network: NetworkRecord
        do { network = try self.network(named: record.config.network) } catch {
            cni.removeNamespace(at: netns)
            throw error
        }
        let others = try store.containers().filter { $0.id != record.id && state(of: $0).isRunning }
        for port in record.publishedPorts {
            let binding = "\(port.hostIP.isEmpty ? "0.0.0.0" : port.hostIP):\(port.hostPort)"
            if others.contains(where: { $0.publishedPorts.contains { $0.hostPort == port.hostPort && $0.proto == port.proto } })
                || !ContainerEngine.portIsFree(port) {
                cni.removeNamespace(at: netns)
                throw .portAllocated(binding)
            }
        }
        return network
    }

    /// Attaches the namespace to the network (CNI ADD) and records the address. On
    /// failure the namespace is removed.
    func attach(_ record: ContainerRecord, to network: NetworkRecord) throws(EngineError) -> ContainerRecord {
        guard let netns = record.netnsPath else { return record }
        var record = record
        let attachment: NetworkAttachment
        do {
            attachment = try cni.add(network, containerID: record.id, netns: netns, ports: record.publishedPorts,
                                     cacheDirectory: directory(of: record.id))
        } catch {
            cni.removeNamespace(at: netns)
            throw error
        }
        record.ipAddress = attachment.address
        record.gateway = attachment.gateway
        record.macAddress = attachment.mac
        try store.update(record)
        do {
            return try attachConnections(record)
        } catch {
            tearDownNetwork(record)
            throw error
        }
    }

    /// Releases what `prepareNamespace` and `attach` took: CNI DEL (veth, IPAM lease, iptables rules) and
    /// the namespace. Safe to call when nothing is set up.
    ///
    /// The namespace goes first: the kernel then destroys the container's veth in the
    /// background, where the bridge plugin's DEL would wait for it (tens of milliseconds
    /// of network-device unregistration). Our networks' plugins (bridge, host-local,
    /// portmap) release their state without the namespace, as the CNI spec lets a DEL do.
    func tearDownNetwork(_ record: ContainerRecord, cacheDirectory: String? = nil) {
        guard let netns = record.netnsPath else { return }
        cni.removeNamespace(at: netns)
        if record.config.network != "none", let network = try? network(named: record.config.network) {
            cni.delete(network, containerID: record.id, netns: netns, ports: record.publishedPorts,
                       cacheDirectory: cacheDirectory ?? directory(of: record.id))
        }
        detachConnections(record, netns: netns, cacheDirectory: cacheDirectory ?? directory(of: record.id))
    }

    /// Rewrites /etc/hosts of every container on `network`: each can reach by name the
    /// containers of every network it is on. Written in place, so the bind mounts see it.
    func refreshHosts(network: String) {
        guard network != "host", network != "none", let records = try? store.containers() else { return }
        let members = records.filter { $0.allNetworks.contains { $0.name == network && $0.address != nil } }
        for member in members {
            let path = directory(of: member.id) + "/hosts"
            let text = HostsFile.text(for: member, peers: records, gateway: hostGateway(of: member))
            let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            if fd >= 0 {
                try? Files.writeAll(fd: fd, bytes: Array(text.utf8))
                close(fd)
            }
        }
    }

    /// What `host-gateway` stands for in a container's --add-host entries: the gateway of
    /// the bridge network it was created on (nil on the host's network or none).
    func hostGateway(of record: ContainerRecord) -> String? {
        guard record.config.network != "host", record.config.network != "none" else { return nil }
        return record.gateway ?? (try? network(named: record.config.network).gateway)
    }
}

extension ContainerEngine {
    /// `system reset`: every container, network (the default one too: its bridge and
    /// masquerade rule), volume and image goes.
    public func reset() throws(EngineError) {
        for record in try store.containers() { try remove(record.id, force: true) }
        for network in try store.networks() {
            try store.deleteNetwork(network.name)
            cni.removeNetworkRules(network)
            _ = try? Spawn.capture(["/usr/sbin/ip", "link", "delete", network.bridge])
            SubnetReservations.release(network.subnet, root: options.root, id: network.id)
        }
        try? Files.removeTree(options.runRoot + "/cni")
        for volume in try store.volumes() { try removeVolume(volume.name, force: true) }
        do { _ = try images.prune(all: true) } catch { throw .image(error) }
    }

    /// `system prune`: stopped containers, networks no container uses, dangling images
    /// (all unused ones with `allImages`), and with `volumes` unused volumes.
    public func prune(allImages: Bool, volumes: Bool) throws(EngineError) -> (containers: [String], networks: [String], images: Int, bytes: Int64) {
        let removedContainers = try pruneContainers().removed
        let remaining = try store.containers()
        var removedNetworks: [String] = []
        for network in try store.networks() where network.name != ContainerEngine.defaultNetwork {
            if !remaining.contains(where: { $0.config.network == network.name }) {
                try removeNetwork(network.name)
                removedNetworks.append(network.name)
            }
        }
        var bytes: Int64 = 0
        if volumes { bytes += try pruneVolumes(all: false).bytes }
        let inUse = Set(remaining.map(\.imageID))
        let images: (deleted: [ImageSpec.Digest], reclaimed: Int64)
        do { images = try self.images.prune(all: allImages, inUse: inUse) } catch { throw .image(error) }
        return (removedContainers, removedNetworks, images.deleted.count, bytes + images.reclaimed)
    }
}
