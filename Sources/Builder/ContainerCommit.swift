#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Dockerfile
import Engine
import ImageSpec
import Images

/// Why a commit could not be made; `invalidChange` and `invalidReference` are the
/// caller's mistakes (docker's 400), the rest the engine's or the image store's.
public enum CommitError: Error, CustomStringConvertible, Sendable {
    case engine(EngineError)
    case image(ImageError)
    /// A `--change` that is not one of the configuration instructions, or does not parse.
    case invalidChange(String)
    case invalidReference(String)
    /// The container's writable layer is gone (removed, or a snapshot driver without one).
    case noWritableLayer(String)

    public var description: String {
        switch self {
        case .engine(let error): return error.description
        case .image(let error): return error.description
        case .invalidChange(let message), .invalidReference(let message): return message
        case .noWritableLayer(let name): return "container \(name) has no writable layer to commit"
        }
    }
}

/// What `commit` is asked for besides the container: docker's `commit` options and the
/// API's `POST /commit` parameters.
public struct CommitOptions: Sendable {
    /// `REPOSITORY[:TAG]`; nil leaves the image untagged.
    public var reference: String?
    public var author: String?
    /// The message (`-m`), kept as the new history entry's comment.
    public var comment: String?
    /// Dockerfile instructions applied to the configuration (`--change`).
    public var changes: [String] = []
    /// Freezes the container while its layer is read (docker's default).
    public var pause = true
    /// Settings that win over the container's (the API's request body).
    public var config: ImageConfig.RunConfig?

    public init() {}
}

/// `docker commit`: a new image made of the container's image and one more layer holding
/// what the container changed (its overlay upper directory, archived as a build step's is),
/// with the container's run configuration as docker merges it, changed by `--change`
/// instructions. The mount points the engine made (`mountPointStubs`) are left out, as
/// docker keeps those of its own files in a layer of their own.
public enum ContainerCommit {
    /// The instructions docker accepts in `--change`.
    static let allowed: Set<String> = ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "ONBUILD",
                                       "USER", "VOLUME", "WORKDIR"]

    public static func commit(_ container: String, options: CommitOptions,
                              engine: ContainerEngine) throws(CommitError) -> ImageRecord {
        let record: ContainerRecord
        do { record = try engine.find(container) } catch { throw .engine(error) }
        let reference = try checkedReference(options.reference)
        // As dockerd: the changes apply to the request's configuration, or without one to
        // the container's own (so `ENV PATH=$PATH:/x` extends the container's PATH).
        let containerConfig = engine.runConfig(of: record)
        let config = merged(try applying(options.changes, to: options.config ?? containerConfig), over: containerConfig)
        let images = engine.images
        let base: ImageRecord?
        do { base = try images.list().first { $0.id == record.imageID } } catch { throw .image(error) }
        guard let base else { throw .image(.notFound("the image of container \(record.name) (\(record.imageID)) is gone")) }
        let upper = images.upperDirectory(ofRootfs: record.id)
        guard Files.isDirectory(upper) else { throw .noWritableLayer(record.name) }

        let paused = options.pause && engine.state(of: record).status == .running
        if paused { do { try engine.pause(record.id) } catch { throw .engine(error) } }
        defer { if paused { try? engine.unpause(record.id) } }
        let layer: CommittedLayer?
        do {
            layer = try images.commitLayer(upperDirectory: upper, excluding: engine.mountPointStubs(record))
        } catch {
            throw .image(error)
        }
        let created = Clock.rfc3339Now()
        // docker's history line: the container's command (Cmd without the entrypoint).
        let history = ImageConfig.History(created: created, createdBy: (containerConfig.Cmd ?? []).joined(separator: " "),
                                          comment: options.comment.flatMap { $0.isEmpty ? nil : $0 },
                                          emptyLayer: layer == nil ? true : nil)
        let image: ImageRecord
        do {
            image = try images.commitImage(base: base, newLayers: layer.map { [$0] } ?? [], config: config, history: [history],
                                           names: reference.map { [$0] } ?? [], created: created,
                                           author: options.author.flatMap { $0.isEmpty ? nil : $0 })
        } catch {
            throw .image(error)
        }
        var attributes = ["comment": options.comment ?? "", "imageID": image.id.description]
        if let reference { attributes["imageRef"] = ImageService.familiarName(reference) }
        engine.recordContainerEvent("commit", record, attributes)
        return image
    }

    /// `REPOSITORY[:TAG]` checked and completed with `latest`.
    static func checkedReference(_ text: String?) throws(CommitError) -> String? {
        guard let text, !text.isEmpty else { return nil }
        do {
            return try ImageReference(parsing: text).description
        } catch {
            throw .invalidReference("invalid reference format: \(text): \(error)")
        }
    }

    /// The `--change` instructions applied in order, with the configuration's environment
    /// in scope (`ENV PATH=$PATH:/opt/bin` extends it).
    static func applying(_ changes: [String], to start: ImageConfig.RunConfig) throws(CommitError) -> ImageConfig.RunConfig {
        var config = start
        // As dockerd's: an ENTRYPOINT change clears a command the changes did not set.
        var commandSet = false
        if !changes.isEmpty, changes.allSatisfy({ $0.trimmingSpaces.isEmpty }) {
            throw .invalidChange("file with no instructions")
        }
        for change in changes where !change.trimmingSpaces.isEmpty {
            // The keyword first: dockerd names one it does not take before parsing the rest.
            let keyword = change.trimmingSpaces.prefix { $0 != " " && $0 != "\t" && $0 != "\n" }
            guard allowed.contains(keyword.uppercased()) else {
                throw .invalidChange("\(keyword.lowercased()) is not a valid change command")
            }
            let dockerfile: Dockerfile
            do { dockerfile = try Dockerfile.parse("FROM scratch\n" + change, file: "change") } catch {
                throw .invalidChange(unlocated(error))
            }
            guard dockerfile.stages.count == 1 else { throw .invalidChange("from is not a valid change command") }
            for instruction in dockerfile.stages[0].instructions {
                guard allowed.contains(instruction.name) else {
                    throw .invalidChange("\(instruction.name.lowercased()) is not a valid change command")
                }
                var environment = StageEnvironment(global: VariableList(), imageEnvironment: config.Env ?? [])
                do {
                    try environment.apply(instruction)
                    let expanded = try instruction.expanded(environment)
                    _ = try ConfigInstruction.apply(expanded, to: &config, environment: environment, commandSet: &commandSet)
                } catch {
                    throw .invalidChange(unlocated(error))
                }
            }
        }
        return config
    }

    /// An error's message without the `change:2: ` place the parser gives it (a change is
    /// one line, read after a FROM of our own).
    static func unlocated(_ error: any Error) -> String {
        let text = "\(error)"
        guard text.hasPrefix("change:"), let colon = text.dropFirst(7).firstIndex(of: ":") else { return text }
        let line = text[text.index(text.startIndex, offsetBy: 7)..<colon]
        guard !line.isEmpty, line.allSatisfy(\.isNumber) else { return text }
        return String(text[text.index(after: colon)...].drop { $0 == " " })
    }

    /// dockerd's commit merge: what the request and the changes set wins, the
    /// container's configuration fills the rest (environment, labels, ports and volumes
    /// joined; the container's command only when neither entrypoint nor command was set).
    static func merged(_ new: ImageConfig.RunConfig, over container: ImageConfig.RunConfig) -> ImageConfig.RunConfig {
        var config = new
        if (config.User ?? "").isEmpty { config.User = container.User }
        if let ports = container.ExposedPorts { config.ExposedPorts = ports.merging(config.ExposedPorts ?? [:]) { $1 } }
        if let env = container.Env { config.Env = ContainerEngine.mergedEnvironment(config.Env ?? [], image: env) }
        config.Labels = (container.Labels ?? [:]).merging(config.Labels ?? [:]) { $1 }
        if (config.Entrypoint ?? []).isEmpty {
            if (config.Cmd ?? []).isEmpty { config.Cmd = container.Cmd }
            if config.Entrypoint == nil { config.Entrypoint = container.Entrypoint }
        }
        if config.Healthcheck == nil { config.Healthcheck = container.Healthcheck }
        if (config.WorkingDir ?? "").isEmpty { config.WorkingDir = container.WorkingDir }
        if let volumes = container.Volumes { config.Volumes = volumes.merging(config.Volumes ?? [:]) { $1 } }
        if (config.StopSignal ?? "").isEmpty { config.StopSignal = container.StopSignal }
        if config.Shell == nil { config.Shell = container.Shell }
        return config
    }

}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed())
    }
}
