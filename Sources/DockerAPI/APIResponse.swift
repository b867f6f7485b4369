import CaissonJSON
import NIOCore
import NIOHTTP1

/// What a handler answers: a status, headers, and a body that is either whole (sent with
/// a Content-Length), streamed (chunked, for logs that follow a running container), or
/// the connection itself (attach and exec: after the head, raw bytes both ways).
public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// Writes chunks until it returns; the connection closes after it.
        case stream(@Sendable (ResponseStream) async throws -> Void)
        /// Takes the connection over after the head: 101 UPGRADED for a client that asked
        /// for `Upgrade: tcp`, 200 otherwise; the connection closes when it returns.
        case hijack(@Sendable (HijackedStream) async throws -> Void)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON document.
    public static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return APIResponse(status: status, headers: headers, body: .bytes(JSONEncoding.serialize(value) + [0x0a]))
    }

    public static func json(_ object: JSONObject, status: HTTPResponseStatus = .ok) -> APIResponse {
        json(.object(object), status: status)
    }

    public static func noContent() -> APIResponse { APIResponse(status: .noContent) }
    public static func notModified() -> APIResponse { APIResponse(status: .notModified) }

    public static func error(_ error: DockerAPIError) -> APIResponse {
        var object = JSONObject()
        object.set("message", .string(error.message))
        return json(object, status: error.status)
    }
}

/// The writing end of a streamed body.
public struct ResponseStream: Sendable {
    let write: @Sendable ([UInt8]) async throws -> Void
    /// Returns when the client has closed its side of the connection (or the waiting task
    /// is cancelled): how a stream with nothing to send learns that its client went, as
    /// Go's server cancels a request whose connection reads end of file.
    public let clientClosed: @Sendable () async -> Void

    init(write: @escaping @Sendable ([UInt8]) async throws -> Void,
         clientClosed: @escaping @Sendable () async -> Void = { try? await Task.sleep(nanoseconds: UInt64.max) }) {
        self.write = write
        self.clientClosed = clientClosed
    }

    public func send(_ bytes: [UInt8]) async throws {
        if !bytes.isEmpty { try await write(bytes) }
    }
}

/// Short-hands for building JSON documents.
extension JSONValue {
    static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }
    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
    static func map(_ values: [String: String]) -> JSONValue {
        var object = JSONObject()
        for (key, value) in values.sorted(by: { $0.key < $1.key }) { object.set(key, .string(value)) }
        return .object(object)
    }

    /// A number's or string's text (numbers keep theirs).
    var text: String? {
        switch self {
        case .string(let text), .number(let text): return text
        default: return nil
        }
    }
}
