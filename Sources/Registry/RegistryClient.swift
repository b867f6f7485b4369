#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import CaissonJSON
import CaissonSys
import ContentStore
import ImageSpec
import NIOCore
import NIOHTTP1
import Synchronization

/// A client of the OCI distribution API (what docker.io, quay.io, distribution and zot
/// serve): manifests and blobs, pulls that verify every byte against its digest while it
/// streams to the content store, resumable downloads, and pushes that skip blobs the
/// registry has and mount blobs across repositories. Authentication follows the registry's
/// challenge: anonymous, bearer tokens (with the user's credentials when it has some) or
/// basic.
public final class RegistryClient: Sendable {
    private let http: HTTPClient
    private let credentials: CredentialStore
    /// Credentials given on the command line (`login -u -p`), tried before the files.
    private let explicitCredentials: [String: Credential]
    /// Authorization header values by "host scope".
    private let authorizations = Mutex<[String: String]>([:])
    public let userAgent = "caisson/0.1"

    public init(credentials: CredentialStore, explicit: [String: Credential] = [:]) {
        self.credentials = credentials
        self.explicitCredentials = explicit
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 8, allowCycles: false),
            timeout: .init(connect: .seconds(15), read: .seconds(60)))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 8
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// Hosts whose names resolved once.
    private let resolvedHosts = Mutex<Set<String>>([])

    /// Fails at once for a host name that does not resolve: the HTTP client would keep
    /// retrying the connection until its connect timeout (15 s) for a name that cannot exist.
    private func checkResolvable(_ hostAndPort: String, url: String) throws(RegistryError) {
        if resolvedHosts.withLock({ $0.contains(hostAndPort) }) { return }
        var host = hostAndPort
        if host.hasPrefix("[") {
            host = String(host.dropFirst().prefix { $0 != "]" })
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        if let result { freeaddrinfo(result) }
        guard status == 0 else {
            let reason = gai_strerror(status).map { String(cString: $0) } ?? "error \(status)"
            throw .transport(url: url, reason: "cannot resolve host \(host): \(reason)")
        }
        resolvedHosts.withLock { _ = $0.insert(hostAndPort) }
    }

    // MARK: Requests with authentication

    private func scope(_ endpoint: Endpoint, push: Bool) -> String {
        "repository:\(endpoint.repository):" + (push ? "pull,push" : "pull")
    }

    /// Sends a request, answering one authentication challenge if the registry makes it.
    /// The token's scope is the endpoint's repository unless `scope` names another (the
    /// catalog's `registry:catalog:*`).
    func send(_ endpoint: Endpoint, _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [],
              body: (@Sendable () -> HTTPClientRequest.Body)? = nil, push: Bool = false, scope explicitScope: String? = nil,
              timeout: TimeAmount = .seconds(120)) async throws(RegistryError) -> HTTPClientResponse {
        let url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : endpoint.baseURL + path
        let scope = explicitScope ?? scope(endpoint, push: push)
        let key = "\(endpoint.host) \(scope)"
        try checkResolvable(endpoint.host, url: url)
        for attempt in 0..<2 {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "User-Agent", value: userAgent)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let authorization = authorizations.withLock({ $0[key] }) {
                request.headers.add(name: "Authorization", value: authorization)
            }
            if let body { request.body = body() }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: timeout)
            } catch {
                throw .transport(url: url, reason: RegistryClient.describe(error))
            }
            guard response.status == .unauthorized, attempt == 0 else { return response }
            let challenge = response.headers.first(name: "WWW-Authenticate").flatMap(AuthChallenge.parse)
            _ = try? await response.body.collect(upTo: 1 << 16)
            guard let challenge else { throw .unauthorized("\(url) asks for credentials but names no scheme") }
            let authorization = try await authorize(endpoint, challenge: challenge, scope: scope)
            authorizations.withLock { $0[key] = authorization }
        }
        throw .unauthorized(url)
    }

    private func authorize(_ endpoint: Endpoint, challenge: AuthChallenge, scope: String) async throws(RegistryError) -> String {
        var credential = explicitCredentials[endpoint.host]
        if credential == nil { credential = try credentials.credential(for: endpoint.host) }
        switch challenge.scheme {
        case "basic":
            guard let credential else { throw .unauthorized("\(endpoint.host) requires a user name and password") }
            return "Basic " + Base64.encode(Array("\(credential.username):\(credential.password)".utf8))
        case "bearer":
            guard let realm = challenge.parameters["realm"], !realm.isEmpty else {
                throw .invalidResponse("bearer challenge from \(endpoint.host) has no realm")
            }
            var query: [String] = []
            if let service = challenge.parameters["service"] { query.append("service=" + URLEncoding.query(service)) }
            query.append("scope=" + URLEncoding.query(scope))
            var request = HTTPClientRequest(url: realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"))
            request.headers.add(name: "User-Agent", value: userAgent)
            if let credential {
                request.headers.add(name: "Authorization",
                                    value: "Basic " + Base64.encode(Array("\(credential.username):\(credential.password)".utf8)))
            }
            let response: HTTPClientResponse
            let body: ByteBuffer
            do {
                response = try await http.execute(request, timeout: .seconds(60))
                body = try await response.body.collect(upTo: 1 << 20)
            } catch {
                throw .transport(url: realm, reason: RegistryClient.describe(error))
            }
            guard response.status == .ok else {
                if response.status == .unauthorized {
                    throw .unauthorized("the token service \(realm) refused " + (credential == nil ? "anonymous access" : "the credentials"))
                }
                throw .http(status: Int(response.status.code), url: realm, detail: "token request failed")
            }
            guard case .object(let object)? = try? JSONParser.parse(Array(buffer: body)) else {
                throw .invalidResponse("token service \(realm) did not answer JSON")
            }
            if case .string(let token)? = object["token"] ?? object["access_token"], !token.isEmpty {
                return "Bearer " + token
            }
            throw .invalidResponse("token service \(realm) gave no token")
        default:
            throw .unauthorized("\(endpoint.host) asks for unsupported authentication \"\(challenge.scheme)\"")
        }
    }

    static func describe(_ error: any Error) -> String { describe(error, peer: "the registry") }

    /// An HTTP transport error in a few words (a registry's, or a server ADD downloads from).
    public static func describe(_ error: any Error, peer: String) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connection timed out"
            case .remoteConnectionClosed: return "\(peer) closed the connection"
            case .readTimeout: return "read timed out"
            case .deadlineExceeded: return "the request took too long"
            default: return "\(error)"
            }
        }
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }

    /// The `errors` array of a distribution error body, as one line.
    static func errorDetail(_ body: ByteBuffer?) -> String {
        guard let body, case .object(let object)? = try? JSONParser.parse(Array(buffer: body)),
              case .array(let errors)? = object["errors"] else { return "" }
        return errors.compactMap { item -> String? in
            guard case .object(let error) = item else { return nil }
            var parts: [String] = []
            if case .string(let code)? = error["code"] { parts.append(code) }
            if case .string(let message)? = error["message"] { parts.append(message) }
            return parts.joined(separator: ": ")
        }.joined(separator: "; ")
    }

    /// The error for an unexpected response; `body` when the caller already read it (a
    /// response body can be read only once).
    func failure(_ response: HTTPClientResponse, url: String, body collected: ByteBuffer?? = nil) async -> RegistryError {
        let body: ByteBuffer?
        if let collected { body = collected } else { body = try? await response.body.collect(upTo: 1 << 16) }
        let detail = RegistryClient.errorDetail(body)
        if response.status == .unauthorized || response.status == .forbidden {
            return .unauthorized("\(url)" + (detail.isEmpty ? "" : " (\(detail))"))
        }
        return .http(status: Int(response.status.code), url: url, detail: detail)
    }

    // MARK: Pull

    /// A manifest or index as the registry serves it, checked against its digest.
    public struct FetchedManifest: Sendable {
        public var bytes: [UInt8]
        public var mediaType: String?
        public var digest: Digest
    }

    public func fetchManifest(_ endpoint: Endpoint, reference: String) async throws(RegistryError) -> FetchedManifest {
        let path = "/v2/\(endpoint.repository)/manifests/\(reference)"
        let response = try await send(endpoint, .GET, path, headers: [("Accept", MediaType.manifestAccept.joined(separator: ", "))])
        if response.status == .notFound {
            let body = try? await response.body.collect(upTo: 1 << 16)
            let detail = RegistryClient.errorDetail(body)
            // name:tag, or name@sha256:... for a digest.
            let separator = reference.contains(":") ? "@" : ":"
            throw .manifestUnknown("\(endpoint.host)/\(endpoint.repository)\(separator)\(reference)" + (detail.isEmpty ? "" : " (\(detail))"))
        }
        guard response.status == .ok else { throw await failure(response, url: endpoint.baseURL + path) }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: 4 << 20)
        } catch {
            throw .transport(url: endpoint.baseURL + path, reason: RegistryClient.describe(error))
        }
        let bytes = Array(buffer: body)
        var digest = Digest.sha256(of: bytes)
        if let wanted = try? Digest(parsing: reference) {
            var hasher = DigestHasher(wanted.algorithm)
            hasher.update(bytes)
            digest = hasher.finalize()
            guard digest == wanted else {
                throw .content(.digestMismatch(expected: wanted, actual: digest))
            }
        }
        let mediaType = response.headers.first(name: "Content-Type")?
            .split(separator: ";").first.map { String($0).trimmingSpaces() }
        return FetchedManifest(bytes: bytes, mediaType: mediaType, digest: digest)
    }

    /// Downloads a blob into the store, verifying size and digest as it streams. A dropped
    /// connection is retried from where it stopped (HTTP range requests); what was
    /// downloaded survives the process, so a killed pull resumes too.
    public func fetchBlob(_ endpoint: Endpoint, _ descriptor: Descriptor, into store: ContentStore,
                          progress: @Sendable (Int64) -> Void = { _ in }) async throws(RegistryError) {
        let path = "/v2/\(endpoint.repository)/blobs/\(descriptor.digest)"
        var lastError: RegistryError?
        for attempt in 0..<4 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(200 << attempt)) }
            let ingest: Ingest
            do {
                ingest = try store.beginIngest(digest: descriptor.digest, size: descriptor.size)
            } catch {
                throw .content(error)
            }
            if ingest.complete {
                progress(descriptor.size)
                return
            }
            var headers: [(String, String)] = []
            if ingest.offset > 0 { headers.append(("Range", "bytes=\(ingest.offset)-")) }
            let response: HTTPClientResponse
            do {
                response = try await send(endpoint, .GET, path, headers: headers, timeout: .hours(6))
            } catch {
                ingest.suspend()
                if case .transport = error { lastError = error; continue }
                throw error
            }
            switch response.status {
            case .ok:
                if ingest.offset > 0 { do { try ingest.restart() } catch { throw .content(error) } }
            case .partialContent:
                break
            case .rangeNotSatisfiable:
                do { try ingest.restart() } catch { throw .content(error) }
                ingest.suspend()
                lastError = .http(status: 416, url: endpoint.baseURL + path, detail: "range not satisfiable")
                continue
            case .notFound:
                ingest.suspend()
                throw .http(status: 404, url: endpoint.baseURL + path, detail: "blob unknown to the registry")
            default:
                ingest.suspend()
                throw await failure(response, url: endpoint.baseURL + path)
            }
            progress(ingest.offset)
            do {
                for try await buffer in response.body {
                    try buffer.withUnsafeReadableBytes { bytes in try ingest.write(bytes) }
                    progress(ingest.offset)
                }
            } catch let error as ContentStoreError {
                ingest.abort()
                throw .content(error)
            } catch {
                ingest.suspend()
                lastError = .transport(url: endpoint.baseURL + path, reason: RegistryClient.describe(error))
                continue
            }
            if ingest.offset < descriptor.size {
                ingest.suspend()
                lastError = .transport(url: endpoint.baseURL + path,
                                       reason: "the connection ended after \(ingest.offset) of \(descriptor.size) bytes")
                continue
            }
            do { try ingest.commit() } catch { throw .content(error) }
            return
        }
        throw lastError ?? .transport(url: endpoint.baseURL + path, reason: "download failed")
    }

    // MARK: Push

    public func blobExists(_ endpoint: Endpoint, _ digest: Digest) async throws(RegistryError) -> Bool {
        let path = "/v2/\(endpoint.repository)/blobs/\(digest)"
        let response = try await send(endpoint, .HEAD, path, push: true)
        let responseBody = try? await response.body.collect(upTo: 1 << 16)
        if response.status == .ok { return true }
        if response.status == .notFound { return false }
        throw await failure(response, url: endpoint.baseURL + path, body: responseBody)
    }

    /// Asks the registry to link a blob it holds in another repository; false if it would not.
    public func mountBlob(_ endpoint: Endpoint, _ digest: Digest, from repository: String) async throws(RegistryError) -> Bool {
        let path = "/v2/\(endpoint.repository)/blobs/uploads/?mount=\(URLEncoding.query(digest.description))&from=\(URLEncoding.query(repository))"
        let response = try await send(endpoint, .POST, path, headers: [("Content-Length", "0")], push: true)
        let responseBody = try? await response.body.collect(upTo: 1 << 16)
        if response.status == .created { return true }
        if response.status == .accepted {
            // The registry opened an upload instead; cancel it.
            if let location = response.headers.first(name: "Location") {
                let response = try? await send(endpoint, .DELETE, absolute(location, endpoint), push: true)
                _ = try? await response?.body.collect(upTo: 1 << 16)
            }
            return false
        }
        throw await failure(response, url: endpoint.baseURL + path, body: responseBody)
    }

    private func absolute(_ location: String, _ endpoint: Endpoint) -> String {
        location.hasPrefix("http://") || location.hasPrefix("https://") ? location : endpoint.baseURL + location
    }

    /// Uploads a blob from a file: one POST to open the upload, one streaming PUT.
    public func uploadBlob(_ endpoint: Endpoint, _ descriptor: Descriptor, file: String) async throws(RegistryError) {
        let start = "/v2/\(endpoint.repository)/blobs/uploads/"
        let opened = try await send(endpoint, .POST, start, headers: [("Content-Length", "0")], push: true)
        let openedBody = try? await opened.body.collect(upTo: 1 << 16)
        guard opened.status == .accepted, let location = opened.headers.first(name: "Location") else {
            throw await failure(opened, url: endpoint.baseURL + start, body: openedBody)
        }
        var url = absolute(location, endpoint)
        url += (url.contains("?") ? "&" : "?") + "digest=" + URLEncoding.query(descriptor.digest.description)
        let size = descriptor.size
        let response = try await send(
            endpoint, .PUT, url,
            headers: [("Content-Type", "application/octet-stream"), ("Content-Length", String(size))],
            body: { .stream(FileChunks(path: file), length: .known(size)) }, push: true, timeout: .hours(6))
        let responseBody = try? await response.body.collect(upTo: 1 << 16)
        guard response.status == .created else { throw await failure(response, url: url, body: responseBody) }
    }

    /// Puts a manifest under a tag or digest; returns the digest the registry computed.
    @discardableResult
    public func putManifest(_ endpoint: Endpoint, reference: String, bytes: [UInt8], mediaType: String) async throws(RegistryError) -> Digest {
        let path = "/v2/\(endpoint.repository)/manifests/\(reference)"
        let response = try await send(endpoint, .PUT, path,
                                      headers: [("Content-Type", mediaType), ("Content-Length", String(bytes.count))],
                                      body: { .bytes(ByteBuffer(bytes: bytes)) }, push: true)
        let responseBody = try? await response.body.collect(upTo: 1 << 16)
        guard response.status == .created else { throw await failure(response, url: endpoint.baseURL + path, body: responseBody) }
        if let header = response.headers.first(name: "Docker-Content-Digest"), let digest = try? Digest(parsing: header) {
            return digest
        }
        return Digest.sha256(of: bytes)
    }

    /// Checks credentials against a registry (`caisson login`): GET /v2/ and answer its challenge.
    public func verifyLogin(host: String, insecure: Bool) async throws(RegistryError) {
        let endpoint = Endpoint(host: host, repository: "", insecure: insecure || Endpoint.isLoopback(host), isMirror: false)
        let response: HTTPClientResponse
        do {
            response = try await send(endpoint, .GET, "/v2/")
        } catch .unauthorized {
            throw .loginFailed(host)
        }
        if response.status == .unauthorized {
            _ = try? await response.body.collect(upTo: 1 << 16)
            throw .loginFailed(host)
        }
        let responseBody = try? await response.body.collect(upTo: 1 << 16)
        guard response.status == .ok else { throw await failure(response, url: endpoint.baseURL + "/v2/", body: responseBody) }
    }
}

/// A file as an async sequence of 1 MiB buffers, for streaming uploads.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String

    struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        var fd: Int32 = -1
        var done = false

        mutating func next() async throws -> ByteBuffer? {
            if done { return nil }
            if fd < 0 {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                if fd < 0 { throw SysError("open", path: path) }
            }
            var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
            let fd = self.fd
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) { pointer in
                Swift.max(0, read(fd, pointer.baseAddress, pointer.count))
            }
            if n == 0 {
                close(fd)
                self.fd = -1
                done = true
                return nil
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path) }
}
