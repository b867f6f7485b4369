/// A container's /etc/hosts, in one place for its first writing (`SpecBuilder`) and every
/// rewrite as peers come and go (`refreshHosts`): localhost, the `--add-host` entries
/// (`host-gateway` as the gateway of the container's network), then each container of
/// its networks by name, hostname and, on the network it was created on, its aliases.
enum HostsFile {
    /// What every container's file starts with, as dockerd writes it.
    static let localhost = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        + "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

    /// "NAME:ADDRESS" (or docker 25's "NAME=ADDRESS") as (name, address); nil when it is not one.
    static func parseExtraHost(_ text: String) -> (name: String, address: String)? {
        let separator = text.firstIndex(where: { $0 == ":" || $0 == "=" })
        guard let separator else { return nil }
        let name = String(text[..<separator])
        var address = String(text[text.index(after: separator)...])
        if address.hasPrefix("["), address.hasSuffix("]") { address = String(address.dropFirst().dropLast()) }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }),
              address == "host-gateway" || ContainerEngine.isIPAddress(address) else { return nil }
        return (name, address)
    }

    /// The file's text for `member`; `gateway` stands for host-gateway.
    static func text(for member: ContainerRecord, peers: [ContainerRecord], gateway: String?) -> String {
        var text = localhost
        for entry in member.config.extraHosts ?? [] {
            guard let (name, address) = parseExtraHost(entry) else { continue }
            if address == "host-gateway" {
                if let gateway { text += "\(gateway)\t\(name)\n" }
            } else {
                text += "\(address)\t\(name)\n"
            }
        }
        let networks = Set(member.allNetworks.map(\.name))
        for peer in peers {
            for entry in peer.allNetworks where networks.contains(entry.name) {
                guard let address = entry.address else { continue }
                var names = [peer.name, peer.config.hostname ?? String(peer.id.prefix(12))]
                if entry.name == peer.config.network {
                    for alias in peer.config.networkAliases ?? [] where !names.contains(alias) { names.append(alias) }
                } else if let connection = peer.connections?.first(where: { $0.network == entry.name }) {
                    for alias in connection.aliases ?? [] where !names.contains(alias) { names.append(alias) }
                }
                text += "\(address)\t\(names.joined(separator: " "))\n"
            }
        }
        return text
    }
}
