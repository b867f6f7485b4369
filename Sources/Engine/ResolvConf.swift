/// A container's /etc/resolv.conf: the host's, with the name servers, search domains and
/// options the container asked for (`--dns`, `--dns-search`, `--dns-option`) in place of
/// the host's own lines of each kind, as docker writes it. A search list of "." means none.
enum ResolvConf {
    static func text(host: String, servers: [String]?, search: [String]?, options: [String]?) -> String {
        var kept: [String] = []
        for line in host.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let keyword = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
            if keyword == "nameserver", servers?.isEmpty == false { continue }
            if keyword == "search" || keyword == "domain", search?.isEmpty == false { continue }
            if keyword == "options", options?.isEmpty == false { continue }
            kept.append(line)
        }
        while kept.last?.isEmpty == true { kept.removeLast() }
        var lines = kept
        for server in servers ?? [] { lines.append("nameserver \(server)") }
        if let search, !search.isEmpty, search != ["."] { lines.append("search " + search.joined(separator: " ")) }
        if let options, !options.isEmpty { lines.append("options " + options.joined(separator: " ")) }
        if !lines.contains(where: { $0.hasPrefix("nameserver") }) { lines.append("nameserver 127.0.0.1") }
        return lines.joined(separator: "\n") + "\n"
    }
}
