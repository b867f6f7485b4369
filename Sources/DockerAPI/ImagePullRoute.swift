#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import Engine
import ImageSpec
import Images
import NIOHTTP1
import Registry
import RegistryConfig

/// `POST /images/create?fromImage=NAME&tag=TAG`: a pull through the engine's image service
/// (the registries, mirrors and credentials `caisson pull` uses), answered with docker's
/// JSON progress stream (`Pulling from`, one line per layer state, `Digest:`, `Status:`),
/// so `docker pull` and the implicit pull of `docker run` show it as dockerd's. Credentials
/// come from `X-Registry-Auth` (base64 JSON) or the daemon's auth file. A failure after the
/// stream started is an `errorDetail` line, as dockerd sends it. `fromSrc=-` imports the
/// body (a root filesystem tar) as `docker import` does (`repo`, `tag`, `changes`,
/// `message`); `fromSrc` naming a URL is refused by name.
extension DockerAPI {
    func addImagePullRoute(_ router: inout Router) {
        router.add(.POST, "/images/create", body: .file) { [self] request in
            if let source = request.string("fromSrc"), !source.isEmpty {
                guard source == "-" else {
                    throw DockerAPIError.badParameter("invalid parameter fromSrc: importing from a URL is not supported by Caisson (download it and send it as the body with fromSrc=-)")
                }
                return try await imported(request)
            }
            guard let image = request.string("fromImage"), !image.isEmpty else {
                throw DockerAPIError.badParameter("invalid parameter fromImage: an image name is required")
            }
            let tag = request.string("tag") ?? ""
            let name: String
            if tag.isEmpty {
                name = image
            } else if tag.hasPrefix("sha256:") {
                name = image + "@" + tag
            } else {
                name = image + ":" + tag
            }
            let explicit = try DockerAPI.registryAuth(request.headers["X-Registry-Auth"].first)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            return APIResponse(status: .ok, headers: headers, body: .stream { [self] stream in
                let (lines, sink) = AsyncStream<JSONObject>.makeStream()
                let service = engine.images
                let pull = Task {
                    let client = RegistryClient(credentials: service.credentials, explicit: explicit)
                    defer { sink.finish() }
                    do {
                        let record = try await service.pull(name, client: client) { event in
                            for line in DockerAPI.progressLines(event, name: name) { sink.yield(line) }
                        }
                        _ = record
                        self.engine.events.imagePulled(name)
                    } catch {
                        var detail = JSONObject()
                        detail.set("message", .string("\(error)"))
                        var line = JSONObject()
                        line.set("errorDetail", .object(detail))
                        line.set("error", .string("\(error)"))
                        sink.yield(line)
                    }
                    await client.shutdown()
                }
                for await line in lines {
                    try await stream.send(JSONEncoding.serialize(.object(line)) + [0x0A])
                }
                await pull.value
            })
        }
    }

    /// `fromSrc=-`: the body as a one-layer image, answered with `{"status":"sha256:..."}`.
    func imported(_ request: APIRequest) async throws -> APIResponse {
        guard let file = request.bodyFile else { throw DockerAPIError.badParameter("the archive to import is missing: send it as the body") }
        if let platform = request.string("platform"), !platform.isEmpty, platform != "linux/" + DockerAPIInfo.architecture {
            throw DockerAPIError.badParameter("invalid parameter platform: only linux/\(DockerAPIInfo.architecture) images are imported here, not \(platform)")
        }
        var name: String?
        if let repository = request.string("repo"), !repository.isEmpty {
            let tag = request.string("tag") ?? ""
            name = tag.isEmpty ? repository : repository + ":" + tag
            do { _ = try ImageReference(parsing: name ?? "") } catch {
                throw DockerAPIError.badParameter("invalid parameter repo: invalid reference format: \(name ?? "")")
            }
        }
        let changes = (request.query["changes"] ?? []).filter { !$0.isEmpty }
        let message = request.string("message").flatMap { $0.isEmpty ? nil : $0 }
        let service = engine.images
        let imageName = name
        let record = try await blocking { () throws -> ImageRecord in
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SysError("open", path: file) }
            defer { close(fd) }
            do throws(ImageError) {
                return try service.importRootfs(fd: fd, path: "the request body", name: imageName, changes: changes, message: message)
            } catch {
                if case .invalid(let reason) = error { throw DockerAPIError.badParameter(reason) }
                throw error
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return APIResponse(status: .ok, headers: headers,
                           body: .bytes(JSONEncoding.serialize(.object(DockerAPI.status(record.id.description))) + [0x0A]))
    }

    /// docker's progress lines for one pull event.
    static func progressLines(_ event: PullEvent, name: String) -> [JSONObject] {
        func line(_ status: String, id: String? = nil, current: Int64? = nil, total: Int64? = nil) -> JSONObject {
            var object = JSONObject()
            object.set("status", .string(status))
            if id != nil || current != nil {
                var detail = JSONObject()
                if let current { detail.set("current", .number(String(current))) }
                if let total, total > 0 { detail.set("total", .number(String(total))) }
                object.set("progressDetail", .object(detail))
            }
            if let id { object.set("id", .string(id)) }
            return object
        }
        func short(_ digest: Digest) -> String { String(digest.encoded.prefix(12)) }
        switch event {
        case .resolving(let endpoint):
            // The repository and tag as asked ("1: Pulling from local/app"), not the endpoint's.
            let parsed = (try? ImageReference(parsing: name)) ?? (try? ImageReference(parsing: endpoint))
            return [line("Pulling from " + ImageService.familiarName(parsed?.name ?? endpoint),
                         id: parsed?.manifestReference ?? "latest")]
        case .layerWaiting(let digest, _): return [line("Pulling fs layer", id: short(digest))]
        case .layerExists(let digest): return [line("Already exists", id: short(digest))]
        case .layerDownloading(let digest, let done, let total):
            return [line("Downloading", id: short(digest), current: done, total: total)]
        case .layerDownloaded(let digest): return [line("Download complete", id: short(digest))]
        case .layerExtracting(let digest): return [line("Extracting", id: short(digest))]
        case .layerComplete(let digest): return [line("Pull complete", id: short(digest))]
        case .finished(_, let reference, let manifestDigest, let downloaded):
            let familiar = ImageService.familiarName(reference.description)
            return [line("Digest: " + manifestDigest.description),
                    line(downloaded ? "Status: Downloaded newer image for " + familiar : "Status: Image is up to date for " + familiar)]
        }
    }

    /// `X-Registry-Auth`: base64 (URL or standard alphabet) of `{"username", "password",
    /// "serveraddress"}`; an identity token is not supported. Empty or `{}`: none.
    static func registryAuth(_ header: String?) throws(DockerAPIError) -> [String: Credential] {
        guard let header, !header.isEmpty else { return [:] }
        let standard = header.replacing("-", with: "+").replacing("_", with: "/")
        let padded = standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
        guard let bytes = Base64.decode(padded), let value = try? JSONParser.parse(bytes), case .object(let auth) = value else {
            throw .badParameter("invalid X-Registry-Auth header: expected base64 of a JSON object")
        }
        guard case .string(let user)? = auth["username"], !user.isEmpty else { return [:] }
        let password: String
        if case .string(let text)? = auth["password"] { password = text } else { password = "" }
        var server = "docker.io"
        if case .string(let text)? = auth["serveraddress"], !text.isEmpty {
            server = text.replacing("https://", with: "").replacing("http://", with: "")
            if let slash = server.firstIndex(of: "/") { server = String(server[..<slash]) }
            if server == "index.docker.io" { server = "docker.io" }
        }
        return [server: Credential(username: user, password: password)]
    }
}
