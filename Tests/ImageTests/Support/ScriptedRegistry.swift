import Foundation
import ImageSpec
import Synchronization

/// A small registry written for fault tests: serves an OCI layout over the distribution
/// API (manifests by tag, blobs with Range support) and can misbehave on purpose: drop
/// the connection part-way through a blob, trickle bytes, serve a broken manifest,
/// demand bearer tokens. It records every request it saw.
final class ScriptedRegistry: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
    }

    struct Behaviour: Sendable {
        /// Close the connection after this many body bytes of a blob, once per blob.
        var dropBlobAfter: Int?
        /// Sleep this long between 32 KiB chunks of a blob.
        var trickle: Duration?
        /// Require `Authorization: Bearer <token>`; the token service wants basic auth.
        var bearer: (user: String, password: String)?
        /// Manifests served as they are, by tag.
        var rawManifests: [String: String] = [:]
        /// Answer blob requests with a redirect to /storage/<digest>, as registries backed
        /// by object storage do.
        var redirectBlobs = false
    }

    let port: UInt16
    let layout: String
    private let listener: Int32
    private let state: Mutex<(behaviour: Behaviour, requests: [Request], dropped: Set<String>)>
    static let token = "scripted-token-123"

    var host: String { "127.0.0.1:\(port)" }
    var requests: [Request] { state.withLock { $0.requests } }

    func setBehaviour(_ change: (inout Behaviour) -> Void) {
        state.withLock { change(&$0.behaviour) }
    }

    init(layout: String, behaviour: Behaviour = Behaviour()) throws {
        self.layout = layout
        state = Mutex((behaviour, [], []))
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            Thread { [self] in
                handle(client)
                close(client)
            }.start()
        }
    }

    private func handle(_ fd: Int32) {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !data.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return }
            data += buffer[0..<n]
            if data.count > 65536 { return }
        }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where line.contains(":") {
            let pair = line.split(separator: ":", maxSplits: 1)
            headers[pair[0].lowercased()] = pair[1].trimmingCharacters(in: .whitespaces)
        }
        let request = Request(method: String(parts[0]), path: String(parts[1]), headers: headers)
        let behaviour = state.withLock { state -> Behaviour in
            state.requests.append(request)
            return state.behaviour
        }
        route(request, behaviour, fd)
    }

    private func respond(_ fd: Int32, _ status: String, _ headers: [String: String] = [:], body: [UInt8] = []) {
        var head = "HTTP/1.1 \(status)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        writeAll(fd, Array(head.utf8) + body)
    }

    @discardableResult
    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    private func route(_ request: Request, _ behaviour: Behaviour, _ fd: Int32) {
        let path = request.path.split(separator: "?").first.map(String.init) ?? request.path
        if path.hasPrefix("/token") {
            let expected = behaviour.bearer.map { "Basic " + Data("\($0.user):\($0.password)".utf8).base64EncodedString() }
            guard request.headers["authorization"] == expected else {
                respond(fd, "401 Unauthorized", body: Array(#"{"details":"bad credentials"}"#.utf8))
                return
            }
            respond(fd, "200 OK", ["Content-Type": "application/json"], body: Array(#"{"token":"\#(ScriptedRegistry.token)"}"#.utf8))
            return
        }
        if behaviour.bearer != nil, request.headers["authorization"] != "Bearer \(ScriptedRegistry.token)" {
            respond(fd, "401 Unauthorized", [
                "WWW-Authenticate": #"Bearer realm="http://\#(host)/token",service="scripted",scope="repository:x:pull""#,
                "Content-Type": "application/json",
            ], body: Array(#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#.utf8))
            return
        }
        if path.hasPrefix("/storage/") {
            serveBlob(String(path.dropFirst("/storage/".count)), request, behaviour, fd)
            return
        }
        if path == "/v2/" || path == "/v2" {
            respond(fd, "200 OK", body: Array("{}".utf8))
            return
        }
        let pieces = path.split(separator: "/").map(String.init)
        guard pieces.count >= 4, pieces[0] == "v2" else {
            respond(fd, "404 Not Found")
            return
        }
        let kind = pieces[pieces.count - 2]
        let reference = pieces[pieces.count - 1]
        if kind == "manifests" {
            if let raw = behaviour.rawManifests[reference] {
                respond(fd, "200 OK", ["Content-Type": MediaType.ociManifest], body: Array(raw.utf8))
                return
            }
            guard let descriptor = manifestDescriptor(reference),
                  let bytes = try? [UInt8](Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + descriptor.digest.encoded))) else {
                respond(fd, "404 Not Found", ["Content-Type": "application/json"],
                        body: Array(#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#.utf8))
                return
            }
            respond(fd, "200 OK", ["Content-Type": descriptor.mediaType, "Docker-Content-Digest": descriptor.digest.description], body: bytes)
            return
        }
        if kind == "blobs", behaviour.redirectBlobs {
            respond(fd, "307 Temporary Redirect", ["Location": "http://\(host)/storage/\(reference)"])
            return
        }
        if kind == "blobs" {
            serveBlob(reference, request, behaviour, fd)
            return
        }
        respond(fd, "404 Not Found", ["Content-Type": "application/json"],
                body: Array(#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#.utf8))
    }

    private func serveBlob(_ reference: String, _ request: Request, _ behaviour: Behaviour, _ fd: Int32) {
        if let digest = try? Digest(parsing: reference),
           let bytes = try? [UInt8](Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.encoded))) {
            var start = 0
            var status = "200 OK"
            if let range = request.headers["range"], range.hasPrefix("bytes="),
               let from = Int(range.dropFirst(6).split(separator: "-").first ?? "") {
                start = min(from, bytes.count)
                status = "206 Partial Content"
            }
            let body = Array(bytes[start...])
            var head = "HTTP/1.1 \(status)\r\nConnection: close\r\nContent-Length: \(body.count)\r\nContent-Type: application/octet-stream\r\n"
            if start > 0 { head += "Content-Range: bytes \(start)-\(bytes.count - 1)/\(bytes.count)\r\n" }
            head += "\r\n"
            guard writeAll(fd, Array(head.utf8)) else { return }
            let dropAt = state.withLock { state -> Int? in
                guard let limit = behaviour.dropBlobAfter, !state.dropped.contains(reference) else { return nil }
                state.dropped.insert(reference)
                return limit
            }
            var offset = 0
            while offset < body.count {
                var end = min(body.count, offset + 32768)
                if let dropAt, end >= dropAt {
                    end = dropAt
                    _ = writeAll(fd, Array(body[offset..<end]))
                    return  // the connection closes mid-body
                }
                guard writeAll(fd, Array(body[offset..<end])) else { return }
                offset = end
                if let trickle = behaviour.trickle {
                    let nanoseconds = trickle.components.attoseconds / 1_000_000_000 + trickle.components.seconds * 1_000_000_000
                    usleep(UInt32(nanoseconds / 1000))
                }
            }
            return
        }
        respond(fd, "404 Not Found", ["Content-Type": "application/json"],
                body: Array(#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#.utf8))
    }

    private func manifestDescriptor(_ reference: String) -> Descriptor? {
        guard let bytes = try? [UInt8](Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))),
              let index = try? ImageIndex.parse(bytes) else { return nil }
        if let digest = try? Digest(parsing: reference) {
            return index.manifests.first { $0.digest == digest } ?? Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: 0)
        }
        return index.manifests.first { $0.annotations?["org.opencontainers.image.ref.name"] == reference }
    }
}
