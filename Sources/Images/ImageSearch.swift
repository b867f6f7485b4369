import Registry
import RegistryConfig

/// One repository a search found, in the fields docker's search results carry (a
/// registry's catalog has no description, stars or badges: empty, 0 and false).
public struct ImageSearchResult: Sendable, Equatable {
    /// The registry it is on.
    public var index: String
    /// `HOST/REPOSITORY`, a name `pull` takes as it is.
    public var name: String
    public var description = ""
    public var stars = 0
    public var official = false
    public var automated = false
}

/// docker's search filters: `stars=N` (at least N), `is-official=BOOL`,
/// `is-automated=BOOL`; anything else refused by name.
public struct ImageSearchFilter: Sendable, Equatable {
    public var stars: Int?
    public var official: Bool?
    public var automated: Bool?

    public init() {}

    /// From `KEY=VALUE` texts (a bare `is-official` means true, as podman takes it).
    public static func parse(_ items: [(key: String, value: String)]) throws(ImageError) -> ImageSearchFilter {
        var filter = ImageSearchFilter()
        for (key, value) in items {
            switch key {
            case "stars":
                guard let stars = Int(value), stars >= 0 else { throw .invalid("invalid filter 'stars=\(value)'") }
                filter.stars = stars
            case "is-official", "is-automated":
                let flag: Bool
                switch value.lowercased() {
                case "", "true", "1": flag = true
                case "false", "0": flag = false
                default: throw .invalid("invalid filter '\(key)=\(value)'")
                }
                if key == "is-official" { filter.official = flag } else { filter.automated = flag }
            default:
                throw .invalid("invalid filter '\(key)'")
            }
        }
        return filter
    }

    func matches(_ result: ImageSearchResult) -> Bool {
        (stars.map { result.stars >= $0 } ?? true)
            && (official.map { result.official == $0 } ?? true)
            && (automated.map { result.automated == $0 } ?? true)
    }
}

/// What a search found, and the registries it could not search (said beside the
/// results, as podman does, when others answered).
public struct ImageSearchOutcome: Sendable {
    public var results: [ImageSearchResult]
    public var failures: [String]
}

/// `caisson search` and the Docker API's `GET /images/search`: repositories whose name
/// holds the term, from the catalog (`/v2/_catalog`) of the registry the term names
/// (`HOST/TERM`, `HOST/` for all) or else of each unqualified-search registry of
/// registries.conf. Docker Hub's search index is another API than the distribution one
/// and is not searched: its turn is refused by name.
extension ImageService {
    public static let searchLimitRange = 1...100

    public func search(_ term: String, limit: Int = 25, filter: ImageSearchFilter = ImageSearchFilter(),
                       client: RegistryClient) async throws(ImageError) -> ImageSearchOutcome {
        guard ImageService.searchLimitRange.contains(limit) else {
            throw .invalid("limit \(limit) is outside the range of [1, 100]")
        }
        let (named, query) = ImageService.searchTarget(term)
        if named == nil && query.isEmpty { throw .invalid("a search term is needed (or HOST/ for a registry's every repository)") }
        let hosts = named.map { [$0] } ?? registries.unqualifiedSearchRegistries
        guard !hosts.isEmpty else {
            throw .invalid("no registry to search: name one (HOST/\(query)) or list some in unqualified-search-registries")
        }
        var results: [ImageSearchResult] = []
        var failures: [String] = []
        for host in hosts {
            do {
                results += try await searchCatalog(host, query: query, client: client).filter(filter.matches)
            } catch {
                failures.append("\(host): \(error)")
            }
        }
        if results.isEmpty, !failures.isEmpty { throw .searchFailed(failures) }
        return ImageSearchOutcome(results: Array(results.prefix(limit)), failures: failures)
    }

    /// The registry a term names (its first component, if it looks like a host) and the
    /// rest, lowercased.
    static func searchTarget(_ term: String) -> (host: String?, query: String) {
        let parts = term.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" {
            return (String(parts[0]), parts[1].lowercased())
        }
        return (nil, term.lowercased())
    }

    private func searchCatalog(_ host: String, query: String, client: RegistryClient) async throws(RegistryError) -> [ImageSearchResult] {
        if host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io" {
            throw .invalidResponse("Docker Hub's search index is not searched by Caisson (it is not the distribution API); name a registry: HOST/TERM")
        }
        let registry = registries.registry(for: host)
        if registry?.blocked == true { throw .blocked(host) }
        let location = registry?.location ?? host
        let endpoint = Endpoint(host: location, repository: "", insecure: registry?.insecure ?? Endpoint.isLoopback(location),
                                isMirror: false)
        return try await client.catalog(endpoint)
            .filter { query.isEmpty || $0.lowercased().contains(query) }
            .sorted()
            .map { ImageSearchResult(index: host, name: host + "/" + $0) }
    }
}
