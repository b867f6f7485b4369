import NIOHTTP1

/// Method and path to handler. Patterns are paths with `{name}` segments (one path
/// segment) and at most one `{name*}` (one or more segments: image names have slashes).
/// Paths no route knows answer 404 as docker does ("page not found").
public struct Router: Sendable {
    public typealias Handler = @Sendable (APIRequest) async throws -> APIResponse

    struct Route: Sendable {
        let method: HTTPMethod
        let pattern: [Substring]
        let body: RequestBody
        let handler: Handler
    }

    /// Where a route's request body goes: into memory (JSON documents, up to a limit) or
    /// into a file (tar streams: build contexts, image archives, archive uploads).
    public enum RequestBody: Sendable {
        case memory
        case file
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, body: RequestBody = .memory,
                             _ handler: @escaping Handler) {
        routes.append(Route(method: method, pattern: pattern.split(separator: "/"), body: body, handler: handler))
    }

    /// Where the body of a request for this method and path goes (memory for unknown paths).
    public func body(for method: HTTPMethod, path: String) -> RequestBody {
        let segments = path.split(separator: "/")
        for route in routes where route.method == method && Router.match(route.pattern, segments) != nil {
            return route.body
        }
        return .memory
    }

    /// The response to a request: its route's, or docker's error document.
    public func respond(_ request: APIRequest) async -> APIResponse {
        let segments = request.path.split(separator: "/")
        for route in routes {
            let method = route.method == .GET && request.method == .HEAD ? HTTPMethod.HEAD : route.method
            guard method == request.method, let parameters = Router.match(route.pattern, segments) else { continue }
            var request = request
            request.parameters = parameters
            do {
                return try await route.handler(request)
            } catch {
                return .error(DockerAPIError.from(error))
            }
        }
        return .error(.notFound("page not found"))
    }

    static func match(_ pattern: [Substring], _ segments: [Substring]) -> [String: String]? {
        if let wildcard = pattern.firstIndex(where: { $0.hasSuffix("*}") }) {
            let suffix = pattern.count - wildcard - 1
            guard segments.count >= pattern.count,
                  var parameters = match(Array(pattern[..<wildcard]), Array(segments[..<wildcard])),
                  let tail = match(Array(pattern.suffix(suffix)), Array(segments.suffix(suffix))) else { return nil }
            parameters.merge(tail) { a, _ in a }
            let name = String(pattern[wildcard].dropFirst().dropLast(2))
            parameters[name] = segments[wildcard..<(segments.count - suffix)].joined(separator: "/")
            return parameters
        }
        guard pattern.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(pattern, segments) {
            if expected.hasPrefix("{") && expected.hasSuffix("}") {
                parameters[String(expected.dropFirst().dropLast())] = String(actual)
            } else if expected != actual {
                return nil
            }
        }
        return parameters
    }
}
