import CaissonSys
import NIOHTTP1

/// One Docker Engine API request as the handlers see it: the method, the path with its
/// `/vX.Y` prefix taken off (the version kept apart), the query and the whole body.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    /// Percent-decoded, without the version prefix and the query: `/containers/json`.
    public var path: String
    /// The version the client asked for (`/v1.45/...`), nil for an unversioned path.
    public var version: APIVersion?
    public var query: [String: [String]]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// For routes whose body goes to a file (`Router.RequestBody.file`): that file, removed
    /// after the response.
    public var bodyFile: String?
    /// What the route's `{placeholders}` matched.
    public var parameters: [String: String] = [:]

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8]) throws(DockerAPIError) {
        self.method = method
        self.headers = headers
        self.body = body
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var path = APIRequest.percentDecode(String(parts[0]), plusIsSpace: false)
        var query: [String: [String]] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let item = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = APIRequest.percentDecode(String(item[0]), plusIsSpace: true)
                query[key, default: []].append(item.count > 1 ? APIRequest.percentDecode(String(item[1]), plusIsSpace: true) : "")
            }
        }
        self.query = query
        version = nil
        if path.hasPrefix("/v"), let slash = path.dropFirst(2).firstIndex(of: "/") {
            let text = String(path[path.index(path.startIndex, offsetBy: 2)..<slash])
            if let parsed = APIVersion(text) {
                try parsed.checkSupported()
                version = parsed
                path = String(path[slash...])
            }
        }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.path = path
    }

    /// The last value of a query parameter.
    public func string(_ name: String) -> String? { query[name]?.last }

    /// docker's booleans in queries: 1/true/True (anything else but 0/false/empty is true too).
    public func bool(_ name: String) -> Bool {
        guard let value = string(name) else { return false }
        return !["", "0", "false", "False", "FALSE", "no"].contains(value)
    }

    /// An integer query parameter; 400 naming it when it is not one.
    public func int(_ name: String) throws(DockerAPIError) -> Int? {
        guard let value = string(name), !value.isEmpty else { return nil }
        guard let number = Int(value) else { throw .badParameter("invalid value for \(name): \"\(value)\" is not an integer") }
        return number
    }

    static func percentDecode(_ text: String, plusIsSpace: Bool) -> String {
        Paths.percentDecoded(text, plusIsSpace: plusIsSpace)
    }
}
