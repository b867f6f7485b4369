import CaissonJSON
import Engine
import ImageSpec
import Images
import NIOHTTP1
import Registry

/// `POST /images/{name}/push?tag=TAG` (docker push) through the image service's `push`
/// (blobs the registry has skipped, mounts from sibling repositories, uploads), with
/// docker's progress stream: `The push refers to repository [...]`, `Preparing`, then
/// `Pushed`, `Layer already exists` or `Mounted from` per layer, `TAG: digest: D size: N`
/// and the `aux` document the CLI reads. Without a tag every tag of the repository is
/// pushed, as dockerd does. Credentials come from `X-Registry-Auth`.
extension DockerAPI {
    func addImagePushRoute(_ router: inout Router) {
        router.add(.POST, "/images/{name*}/push") { [self] request in
            let name = request.parameters["name"] ?? ""
            let tag = request.string("tag") ?? ""
            let explicit = try DockerAPI.registryAuth(request.headers["X-Registry-Auth"].first)
            let service = engine.images
            let repository: ImageReference
            do { repository = try ImageReference(parsing: name) } catch {
                throw DockerAPIError.badParameter("invalid reference format: \(name)")
            }
            // The references to push, resolved before the stream starts (a 404 if none).
            let references = try await blocking { () throws -> [String] in
                if !tag.isEmpty { return [repository.name + ":" + tag] }
                if name.contains(":") && name.split(separator: "/").last?.contains(":") == true { return [repository.description] }
                let tags = try service.list().flatMap(\.repoTags).filter { (try? ImageReference(parsing: $0))?.name == repository.name }
                guard !tags.isEmpty else { throw DockerAPIError.notFound("An image does not exist locally with the tag: \(ImageService.familiarName(repository.name))") }
                return tags.sorted()
            }
            for reference in references {
                do { _ = try service.resolve(reference) } catch {
                    throw DockerAPIError.notFound("An image does not exist locally with the tag: \(ImageService.familiarName(reference))")
                }
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            return APIResponse(status: .ok, headers: headers, body: .stream { stream in
                let (lines, sink) = AsyncStream<JSONObject>.makeStream()
                let push = Task {
                    defer { sink.finish() }
                    let client = RegistryClient(credentials: service.credentials, explicit: explicit)
                    sink.yield(DockerAPI.status("The push refers to repository [\(ImageService.familiarName(repository.name))]"))
                    do {
                        for reference in references {
                            let record = try service.resolve(reference)
                            let layers = Set(try service.manifest(of: record).layers.map(\.digest))
                            _ = try await service.push(reference, client: client) { event in
                                if let line = DockerAPI.pushLine(event, layers: layers) { sink.yield(line) }
                                if case .finished(let target, let digest, let size) = event {
                                    let tagName = target.tag ?? "latest"
                                    sink.yield(DockerAPI.status("\(tagName): digest: \(digest) size: \(size)"))
                                    var aux = JSONObject()
                                    aux.set("Tag", .string(tagName))
                                    aux.set("Digest", .string(digest.description))
                                    aux.set("Size", .int(size))
                                    var line = JSONObject()
                                    line.set("progressDetail", .object(JSONObject()))
                                    line.set("aux", .object(aux))
                                    sink.yield(line)
                                }
                            }
                        }
                    } catch {
                        sink.yield(DockerAPI.errorLine("\(error)"))
                    }
                    await client.shutdown()
                }
                for await line in lines {
                    try await stream.send(JSONEncoding.serialize(.object(line)) + [0x0A])
                }
                await push.value
            })
        }
    }

    static func status(_ text: String) -> JSONObject {
        var line = JSONObject()
        line.set("status", .string(text))
        return line
    }

    /// docker's line for one push event of a layer (the config blob has none).
    static func pushLine(_ event: PushEvent, layers: Set<Digest>) -> JSONObject? {
        func line(_ status: String, _ digest: Digest) -> JSONObject? {
            guard layers.contains(digest) else { return nil }
            var object = DockerAPI.status(status)
            object.set("progressDetail", .object(JSONObject()))
            object.set("id", .string(String(digest.encoded.prefix(12))))
            return object
        }
        switch event {
        case .preparing(let digest): return line("Preparing", digest)
        case .exists(let digest): return line("Layer already exists", digest)
        case .mounted(let digest, let repository): return line("Mounted from \(ImageService.familiarName(repository))", digest)
        case .pushed(let digest): return line("Pushed", digest)
        case .finished: return nil
        }
    }
}
