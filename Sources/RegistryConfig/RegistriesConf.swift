import CaissonSys
import ImageSpec

/// The registry settings podman and CRI-O read (containers-registries.conf(5), TOML, v1
/// and v2 forms): where unqualified names are searched, which registries are mirrored,
/// redirected (`location`), reached over plain HTTP (`insecure`) or refused (`blocked`).
///
/// It lives in `RegistryConfig`, the registry settings without the HTTP client, so that
/// this parser of files other tools write can be built, tested and fuzzed on its own.
public struct RegistriesConf: Sendable, Equatable {
    /// One `[[registry]]` table.
    public struct Registry: Sendable, Equatable {
        public var prefix: String
        public var location: String
        public var insecure: Bool
        public var blocked: Bool
        public var mirrors: [Mirror]
        public var mirrorByDigestOnly: Bool
    }

    public struct Mirror: Sendable, Equatable {
        public var location: String
        public var insecure: Bool
    }

    public var unqualifiedSearchRegistries: [String]
    public var registries: [Registry]

    public static let defaultPath = "/etc/containers/registries.conf"

    public init(unqualifiedSearchRegistries: [String] = ["docker.io"], registries: [Registry] = []) {
        self.unqualifiedSearchRegistries = unqualifiedSearchRegistries
        self.registries = registries
    }

    /// Reads a file; a missing default file means the built-in defaults.
    public static func load(path: String?) throws(RegistryError) -> RegistriesConf {
        let file = path ?? defaultPath
        guard Files.exists(file) else {
            if path != nil { throw .configuration(file: file, reason: "no such file") }
            return RegistriesConf()
        }
        let text: String
        do { text = try Files.readString(file) } catch { throw .configuration(file: file, reason: error.description) }
        do {
            return try parse(text)
        } catch let error as TOMLError {
            throw .configuration(file: file, reason: error.description)
        } catch let error as RegistryError {
            if case .configuration(_, let reason) = error { throw .configuration(file: file, reason: reason) }
            throw error
        } catch {
            throw .configuration(file: file, reason: "\(error)")
        }
    }

    public static func parse(_ text: String) throws -> RegistriesConf {
        let document = try TOMLParser.parse(text)
        var conf = RegistriesConf(unqualifiedSearchRegistries: [])
        func strings(_ value: TOMLValue?, _ name: String) throws(RegistryError) -> [String] {
            guard let value else { return [] }
            guard let items = value.array else { throw .configuration(file: "", reason: "\(name) must be an array of strings") }
            var out: [String] = []
            for item in items {
                guard let text = item.string else { throw .configuration(file: "", reason: "\(name) must be an array of strings") }
                out.append(text)
            }
            return out
        }
        func flag(_ value: TOMLValue?, _ name: String) throws(RegistryError) -> Bool {
            guard let value else { return false }
            guard let result = value.bool else { throw .configuration(file: "", reason: "\(name) must be true or false") }
            return result
        }
        conf.unqualifiedSearchRegistries = try strings(document["unqualified-search-registries"], "unqualified-search-registries")
        // Version 1: [registries.search], [registries.insecure], [registries.block].
        if let v1 = document["registries"] {
            conf.unqualifiedSearchRegistries += try strings(v1["search"]?["registries"], "registries.search.registries")
            for host in try strings(v1["insecure"]?["registries"], "registries.insecure.registries") {
                conf.registries.append(Registry(prefix: host, location: host, insecure: true, blocked: false, mirrors: [],
                                                mirrorByDigestOnly: false))
            }
            for host in try strings(v1["block"]?["registries"], "registries.block.registries") {
                conf.registries.append(Registry(prefix: host, location: host, insecure: false, blocked: true, mirrors: [],
                                                mirrorByDigestOnly: false))
            }
        }
        if let tables = document["registry"] {
            guard let items = tables.array else { throw RegistryError.configuration(file: "", reason: "registry must be [[registry]] tables") }
            for (number, item) in items.enumerated() {
                let location = item["location"]?.string ?? ""
                let prefix = item["prefix"]?.string ?? location
                guard !prefix.isEmpty else {
                    throw RegistryError.configuration(file: "", reason: "[[registry]] #\(number + 1) has neither prefix nor location")
                }
                var mirrors: [Mirror] = []
                for mirror in item["mirror"]?.array ?? [] {
                    guard let mirrorLocation = mirror["location"]?.string, !mirrorLocation.isEmpty else {
                        throw RegistryError.configuration(file: "", reason: "a mirror of \(prefix) has no location")
                    }
                    mirrors.append(Mirror(location: mirrorLocation, insecure: try flag(mirror["insecure"], "mirror.insecure")))
                }
                conf.registries.append(Registry(
                    prefix: prefix, location: location.isEmpty ? prefix : location,
                    insecure: try flag(item["insecure"], "insecure"), blocked: try flag(item["blocked"], "blocked"),
                    mirrors: mirrors, mirrorByDigestOnly: try flag(item["mirror-by-digest-only"], "mirror-by-digest-only")))
            }
        }
        return conf
    }

    /// The `[[registry]]` whose prefix matches `name` (host/repository) best: the longest
    /// prefix, `*.example.com` wildcards matching sub-domains.
    public func registry(for name: String) -> Registry? {
        var best: (Registry, Int)?
        for registry in registries {
            let prefix = registry.prefix
            var length = -1
            if prefix.hasPrefix("*.") {
                let host = name.split(separator: "/", maxSplits: 1).first.map(String.init) ?? name
                if host.hasSuffix(String(prefix.dropFirst(1))) { length = prefix.count }
            } else if name == prefix || name.hasPrefix(prefix + "/") || name.hasPrefix(prefix + ":") || name.hasPrefix(prefix + "@") {
                length = prefix.count
            }
            if length >= 0, length > (best?.1 ?? -1) { best = (registry, length) }
        }
        return best?.0
    }
}

/// One place to fetch a repository from: a mirror or the (possibly relocated) registry.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var repository: String
    public var insecure: Bool
    public var isMirror: Bool

    public var baseURL: String { (insecure ? "http://" : "https://") + (host == "docker.io" ? "registry-1.docker.io" : host) }
    public var description: String { "\(host)/\(repository)" }

    package init(host: String, repository: String, insecure: Bool, isMirror: Bool) {
        self.host = host
        self.repository = repository
        self.insecure = insecure
        self.isMirror = isMirror
    }

    /// Docker's rule: loopback registries are reached over plain HTTP.
    package static func isLoopback(_ host: String) -> Bool {
        let name = host.split(separator: ":").first.map(String.init) ?? host
        return name == "localhost" || name.hasPrefix("127.") || host.hasPrefix("[::1]")
    }
}

extension RegistriesConf {
    /// Where to pull `reference` from, mirrors first. Throws if the registry is blocked.
    public func pullEndpoints(for reference: ImageReference) throws(RegistryError) -> [Endpoint] {
        let name = reference.name
        guard let registry = registry(for: name) else {
            return [Endpoint(host: reference.registry, repository: reference.repository,
                             insecure: Endpoint.isLoopback(reference.registry), isMirror: false)]
        }
        if registry.blocked { throw .blocked(reference.registry) }
        var endpoints: [Endpoint] = []
        let usesMirrors = !registry.mirrorByDigestOnly || reference.digest != nil
        if usesMirrors {
            for mirror in registry.mirrors {
                endpoints.append(RegistriesConf.rewrite(name, prefix: registry.prefix, location: mirror.location,
                                                        insecure: mirror.insecure, isMirror: true))
            }
        }
        endpoints.append(RegistriesConf.rewrite(name, prefix: registry.prefix, location: registry.location,
                                                insecure: registry.insecure, isMirror: false))
        return endpoints
    }

    /// Where to push: the registry's location (never a mirror).
    public func pushEndpoint(for reference: ImageReference) throws(RegistryError) -> Endpoint {
        guard let endpoint = try pullEndpoints(for: reference).last else { throw .blocked(reference.registry) }
        return endpoint
    }

    static func rewrite(_ name: String, prefix: String, location: String, insecure: Bool, isMirror: Bool) -> Endpoint {
        var rewritten = name
        if !prefix.hasPrefix("*.") { rewritten = location + String(name.dropFirst(prefix.count)) }
        let parts = rewritten.split(separator: "/", maxSplits: 1).map(String.init)
        let host = parts[0]
        let repository = parts.count > 1 ? parts[1] : ""
        return Endpoint(host: host, repository: repository, insecure: insecure || Endpoint.isLoopback(host), isMirror: isMirror)
    }
}
