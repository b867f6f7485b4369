import AsyncHTTPClient
import CaissonJSON
import NIOCore
import RegistryConfig

/// The distribution API's repository list (`GET /v2/_catalog`), which is how a registry
/// without a search index is searched (as podman does): pages of `n` names followed
/// through the `Link` header, with a token scoped `registry:catalog:*` where the registry
/// asks for one.
extension RegistryClient {
    /// Every repository name the registry lists, at most `bound` of them.
    public func catalog(_ endpoint: Endpoint, bound: Int = 10_000) async throws(RegistryError) -> [String] {
        var names: [String] = []
        var path = "/v2/_catalog?n=1000"
        while names.count < bound {
            let url = endpoint.baseURL + path
            let response = try await send(endpoint, .GET, path, scope: "registry:catalog:*", timeout: .seconds(60))
            guard response.status == .ok else {
                if response.status == .notFound {
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    throw .http(status: 404, url: url, detail: "the registry does not list its repositories (no /v2/_catalog)")
                }
                throw await failure(response, url: url)
            }
            let link = response.headers.first(name: "Link")
            let body: ByteBuffer
            do { body = try await response.body.collect(upTo: 16 << 20) } catch {
                throw .transport(url: url, reason: RegistryClient.describe(error))
            }
            guard case .object(let object)? = try? JSONParser.parse(Array(buffer: body)) else {
                throw .invalidResponse("\(url) did not answer a JSON object")
            }
            switch object["repositories"] {
            case .array(let items)?:
                for case .string(let name) in items { names.append(name) }
            case .null?, nil:
                break
            default:
                throw .invalidResponse("\(url): \"repositories\" is not a list")
            }
            guard let next = link.flatMap(RegistryCatalog.nextPath) else { break }
            path = next
        }
        return Array(names.prefix(bound))
    }
}

/// The `Link: </v2/_catalog?last=x&n=1000>; rel="next"` of a catalog page.
enum RegistryCatalog {
    static func nextPath(_ header: String) -> String? {
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") || part.contains("rel=next") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            let target = String(part[part.index(after: open)..<close])
            if target.hasPrefix("/v2/_catalog") { return target }
            // An absolute URL: its path and query, on the same registry.
            if let range = target.range(of: "/v2/_catalog") { return String(target[range.lowerBound...]) }
        }
        return nil
    }
}
