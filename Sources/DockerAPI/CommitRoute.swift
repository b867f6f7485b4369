import Builder
import CaissonJSON
import Engine
import ImageSpec
import Images

/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`: a new image from
/// a container's changes (`ContainerCommit`, as `caisson commit`). The body, a container
/// configuration, holds settings that win over the container's; `changes` may repeat.
/// Answers 201 with `{"Id": "sha256:..."}`.
extension DockerAPI {
    func addCommitRoute(_ router: inout Router) {
        router.add(.POST, "/commit") { [self] request in
            guard let container = request.string("container"), !container.isEmpty else {
                throw DockerAPIError.badParameter("invalid parameter container: a container name or id is required")
            }
            var options = CommitOptions()
            if let repository = request.string("repo"), !repository.isEmpty {
                let tag = request.string("tag") ?? ""
                options.reference = tag.isEmpty ? repository : repository + ":" + tag
            } else if let tag = request.string("tag"), !tag.isEmpty {
                throw DockerAPIError.badParameter("invalid parameter tag: a tag needs a repository (repo)")
            }
            options.comment = request.string("comment")
            options.author = request.string("author")
            // docker's default since API 1.13: paused unless pause is given and false.
            options.pause = request.string("pause").map { $0.isEmpty || request.bool("pause") } ?? true
            options.changes = request.query["changes"] ?? []
            options.config = try DockerAPI.commitConfig(request.body)
            let commitOptions = options
            let image = try await blocking { () throws -> ImageRecord in
                do throws(CommitError) {
                    return try ContainerCommit.commit(container, options: commitOptions, engine: self.engine)
                } catch {
                    switch error {
                    case .engine(let error): throw error
                    case .image(let error): throw error
                    case .invalidChange(let message), .invalidReference(let message): throw DockerAPIError.badParameter(message)
                    case .noWritableLayer: throw DockerAPIError(.internalServerError, error.description)
                    }
                }
            }
            var object = JSONObject()
            object.set("Id", .string(image.id.description))
            return .json(object, status: .created)
        }
    }

    /// The request body's container configuration, as the image's run settings; nil when
    /// the body is empty or null.
    static func commitConfig(_ bytes: [UInt8]) throws(DockerAPIError) -> ImageConfig.RunConfig? {
        let text = bytes.filter { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }
        if text.isEmpty || text == Array("null".utf8) { return nil }
        let body = try JSONBody(parsing: bytes)
        var config = ImageConfig.RunConfig()
        config.User = try body.string("User").flatMap { $0.isEmpty ? nil : $0 }
        config.Env = try body.strings("Env").flatMap { $0.isEmpty ? nil : $0 }
        config.Cmd = try body.strings("Cmd", acceptingString: true).flatMap { $0.isEmpty ? nil : $0 }
        config.Entrypoint = try body.strings("Entrypoint", acceptingString: true)
        config.WorkingDir = try body.string("WorkingDir").flatMap { $0.isEmpty ? nil : $0 }
        config.Labels = try body.stringMap("Labels").flatMap { $0.isEmpty ? nil : $0 }
        config.StopSignal = try body.string("StopSignal").flatMap { $0.isEmpty ? nil : $0 }
        config.OnBuild = try body.strings("OnBuild").flatMap { $0.isEmpty ? nil : $0 }
        config.Shell = try body.strings("Shell").flatMap { $0.isEmpty ? nil : $0 }
        if let ports = try body.fields("ExposedPorts"), !ports.isEmpty {
            config.ExposedPorts = Dictionary(ports.map { ($0.name, EmptyObject()) }) { first, _ in first }
        }
        if let volumes = try body.fields("Volumes"), !volumes.isEmpty {
            config.Volumes = Dictionary(volumes.map { ($0.name, EmptyObject()) }) { first, _ in first }
        }
        if body.isSet("Healthcheck"), let check = try body.object("Healthcheck") {
            config.Healthcheck = try ContainerCreateRequest.healthcheck(check)
        }
        return config
    }
}
