#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Dockerfile
import ImageSpec
import Images
import Synchronization

/// What `caisson build` was asked for.
public struct BuildOptions: Sendable {
    public var context: String
    /// The Dockerfile; nil: `Containerfile`, else `Dockerfile`, in the context.
    public var dockerfile: String?
    public var tags: [String] = []
    public var target: String?
    public var buildArguments: [String: String] = [:]
    public var noCache = false
    public var labels: [String: String] = [:]
    /// RUN's network where the instruction does not choose (the host's when nothing is said).
    public var network: RunStep.Network = .host
    /// Makes the network namespace of the first RUN that uses the default network (the
    /// CLI's bridge network namespace), so that builds without RUN steps make none; when
    /// set, it is used instead of `network`.
    public var makeNetwork: (@Sendable () throws(BuildError) -> String)?
    public var timestamp: Int64?
    /// Set when the build must stop (the CLI's signal handler asks it to).
    public var interruption = BuildInterruption()
    /// `--ssh` agent sockets by id (`default` for `--ssh default`), for `RUN --mount=type=ssh`.
    public var sshSockets: [String: String] = [:]
    /// `--secret`s by id, for `RUN --mount=type=secret`.
    public var secrets: [String: BuildSecret] = [:]
    /// How the layers the build makes are compressed (the base image's stay as they are).
    public var compression: LayerCompression = .gzip
    /// The manifest format of the image: OCI, or Docker's (`--format docker`).
    public var format: ImageFormat = .oci
    public var runtime: String
    public var runtimeRoot: String

    /// Part of every cache key: a cached layer is reused only in the compression asked for.
    var compressionKey: String {
        switch compression {
        case .gzip: return ""
        case .none: return " uncompressed"
        case .zstd: return " zstd"
        }
    }

    public init(context: String, runtime: String, runtimeRoot: String) {
        self.context = context
        self.runtime = runtime
        self.runtimeRoot = runtimeRoot
    }
}

/// Builds an image from a Dockerfile: the stages the target needs, in order, each step
/// through the cache; RUN in a container (`RunStep`), COPY and ADD straight into a
/// layer (`CopyStep`), everything else into the image configuration, as BuildKit
/// records it. Progress goes to `output` as plain lines (`STEP 2/5: RUN make`), RUN's
/// own output streamed under them.
public final class ImageBuilder: Sendable {
    public typealias BaseImageSource = @Sendable (String) async throws(BuildError) -> ImageRecord

    let images: ImageService
    let options: BuildOptions
    let progress: any BuildProgress
    let baseImage: BaseImageSource
    let cache: BuildCache
    /// The namespace `options.makeNetwork` made, once made (stages share it).
    private let madeNetwork = Mutex<String?>(nil)

    /// RUN's default network: `options.network`, or the namespace `makeNetwork` gives (made once).
    func defaultNetwork() throws(BuildError) -> RunStep.Network {
        guard let make = options.makeNetwork else { return options.network }
        let result: Result<String, BuildError> = madeNetwork.withLock { made in
            if let made { return .success(made) }
            do throws(BuildError) {
                let path = try make()
                made = path
                return .success(path)
            } catch {
                return .failure(error)
            }
        }
        return .namespace(try result.get())
    }

    /// `baseImage` finds (or pulls) the image a FROM or `COPY --from` names; `progress`
    /// hears of every step.
    public init(images: ImageService, options: BuildOptions, progress: any BuildProgress,
                baseImage: @escaping BaseImageSource) {
        self.images = images
        self.options = options
        self.progress = progress
        self.baseImage = baseImage
        cache = BuildCache(root: images.root)
    }

    /// Plain progress lines to `output` (none when quiet).
    public convenience init(images: ImageService, options: BuildOptions, output: Int32, quiet: Bool = false,
                            baseImage: @escaping BaseImageSource) {
        self.init(images: images, options: options, progress: PlainProgress(fd: quiet ? -1 : output), baseImage: baseImage)
    }

    /// The Dockerfile `options` name, or the context's `Containerfile` / `Dockerfile`.
    public static func locateDockerfile(_ options: BuildOptions) throws(BuildError) -> String {
        if let file = options.dockerfile {
            let path = file.hasPrefix("/") || Files.exists(file) ? file : options.context + "/" + file
            guard Files.exists(path) else { throw .invalid("the Dockerfile \(file) does not exist") }
            return path
        }
        for name in ["Containerfile", "Dockerfile"] where Files.exists(options.context + "/" + name) {
            return options.context + "/" + name
        }
        throw .invalid("no Containerfile or Dockerfile in \(options.context) (give one with -f)")
    }

    public func build() async throws(BuildError) -> ImageRecord {
        guard images.snapshots.driver == .overlay else {
            throw .invalid("building needs the overlay snapshot driver (this store uses vfs)")
        }
        BuildLeftovers.sweep(images: images, runtime: options.runtime, runtimeRoot: options.runtimeRoot)
        let path = try ImageBuilder.locateDockerfile(options)
        let context = try BuildContext(directory: options.context, dockerfile: path)
        let dockerfile: Dockerfile
        let graph: StageGraph
        let global: VariableList
        let order: [Int]
        do {
            dockerfile = try Dockerfile.parse(bytes: try Files.readBytes(path), file: Paths.base(path))
            global = try StageEnvironment.globalScope(
                metaArgs: dockerfile.metaArgDefinitions, buildArguments: options.buildArguments,
                platforms: BuildPlatforms(build: Platform.current.description), escape: dockerfile.directives.escape)
            graph = try StageGraph(dockerfile, global: global)
            order = try graph.stagesNeeded(for: options.target)
        } catch {
            throw .wrapping(error)
        }
        // Step numbers are fixed in Dockerfile order, so that lines of stages running side by
        // side still say which step they are.
        var firstStep: [Int: Int] = [:]
        var total = 0
        for index in order {
            firstStep[index] = total + 1
            total += 1 + dockerfile.stages[index].instructions.count
        }
        let plan = BuildPlan(dockerfile: dockerfile, graph: graph, global: global, context: context, total: total, firstStep: firstStep)
        warnAboutUnusedArguments(dockerfile, stages: order)
        let results = try await buildStages(order, plan: plan)
        guard let last = order.last, var final = results[last] else { throw .invalid("the Dockerfile has no stage to build") }
        let finalCreated = final.lastCreated
        if !options.labels.isEmpty {
            final.state.config.Labels = (final.state.config.Labels ?? [:]).merging(options.labels) { $1 }
        }
        let created = options.timestamp.map { Clock.rfc3339(seconds: Int($0), nanoseconds: 0) } ?? finalCreated
        do {
            return try images.writeImage(layers: final.state.layers, config: final.state.config, history: final.state.history,
                                         platform: final.state.platform, names: options.tags, created: created,
                                         author: final.author, format: options.format)
        } catch {
            throw .image(error)
        }
    }

    /// What every stage of one build shares.
    struct BuildPlan: Sendable {
        let dockerfile: Dockerfile
        let graph: StageGraph
        let global: VariableList
        let context: BuildContext
        let total: Int
        let firstStep: [Int: Int]
    }

    /// What a stage's task gives back.
    struct StageOutcome: Sendable {
        var index: Int
        var result: Result<StageResult, BuildError>
    }

    /// A built stage: its final state, cache key, author (MAINTAINER) and the time of its
    /// last layer step.
    struct StageResult: Sendable {
        var state: BuildState
        var key: String
        var author: String?
        var lastCreated: String
    }

    /// Builds the stages of `order`, each as soon as the stages it uses are built, so that
    /// independent stages run side by side. The first failure stops the others (their
    /// running step's container is killed) and is the error reported.
    func buildStages(_ order: [Int], plan: BuildPlan) async throws(BuildError) -> [Int: StageResult] {
        var results: [Int: StageResult] = [:]
        var pending = order
        var failure: BuildError?
        await withTaskGroup(of: StageOutcome.self) { group in
            while true {
                // Start every stage whose stages are built (none once one has failed).
                let ready = failure != nil ? [] : pending.filter { index in
                    plan.graph.edges[index].allSatisfy { results[$0.stage] != nil }
                }
                pending.removeAll { ready.contains($0) }
                for index in ready {
                    let built = results
                    group.addTask {
                        // A struct and an untyped catch: a tuple with a typed-throws catch
                        // came back as garbage from the child task in release builds (Swift 6.3).
                        do {
                            return StageOutcome(index: index, result: .success(try await self.buildStage(index, plan: plan, results: built)))
                        } catch {
                            return StageOutcome(index: index, result: .failure(BuildError.wrapping(error)))
                        }
                    }
                }
                guard let outcome = await group.next() else { break }
                let index = outcome.index
                switch outcome.result {
                case .success(let result):
                    results[index] = result
                case .failure(let error):
                    if failure == nil {
                        failure = error
                        options.interruption.stopSiblings()
                    }
                }
            }
        }
        if failure == nil, let missing = pending.first {
            throw .invalid("stage \(missing) could not be scheduled: the stages it uses were not built")
        }
        if let failure { throw failure }
        return results
    }

    /// Builds one stage on the results of the stages it uses.
    func buildStage(_ index: Int, plan: BuildPlan, results: [Int: StageResult]) async throws(BuildError) -> StageResult {
        let stage = plan.dockerfile.stages[index]
        var step = plan.firstStep[index] ?? 1
        progress.started(step: step, of: plan.total, "FROM \(stage.from.image)\(stage.name.map { " AS \($0)" } ?? "")")
        var state: BuildState
        var key: String
        var author: String?
        if let base = plan.graph.baseStage[index], let built = results[base] {
            (state, key, author) = (built.state, built.key, built.author)
        } else if let name = plan.graph.baseImages[index], name != "scratch" {
            do throws(BuildError) {
                let record = try await baseImage(name)
                do { state = try BuildState(image: record, in: images) } catch { throw .image(error) }
                key = record.id.description + options.compressionKey
            } catch {
                progress.failed(step: step)
                throw error
            }
        } else {
            state = BuildState()
            key = "scratch" + options.compressionKey
        }
        progress.finished(step: step)
        // The base image's ONBUILD triggers run first, and are not passed on.
        let triggers = plan.graph.baseStage[index] == nil ? state.config.OnBuild ?? [] : []
        state.config.OnBuild = nil
        var run = StageRun(builder: self, context: plan.context, dockerfile: plan.dockerfile, graph: plan.graph, global: plan.global,
                           state: state, key: key, author: author, results: results.mapValues(\.state))
        run.step = step
        for trigger in triggers {
            progress.message("ONBUILD \(trigger)")
            let parsed: Dockerfile
            do {
                parsed = try Dockerfile.parse("FROM scratch\n" + trigger, file: "ONBUILD trigger of \(stage.from.image)")
            } catch {
                throw .wrapping(error)
            }
            for instruction in parsed.stages.first?.instructions ?? [] {
                do throws(BuildError) {
                    try await run.execute(instruction)
                } catch {
                    progress.failed(step: step)
                    throw error
                }
            }
        }
        for instruction in stage.instructions {
            step += 1
            run.step = step
            progress.started(step: step, of: plan.total, instruction.original)
            do throws(BuildError) {
                try await run.execute(instruction)
            } catch {
                progress.failed(step: step)
                throw error
            }
            progress.finished(step: step)
        }
        return StageResult(state: run.state, key: run.key, author: run.author, lastCreated: run.lastCreated)
    }

    /// Proxy variables BuildKit passes without an ARG, never reported as unused.
    static let predefinedArguments: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
        "ALL_PROXY", "all_proxy",
    ]

    /// `--build-arg`s that no ARG of the stages built declares, reported as docker and
    /// buildah report them (the build goes on).
    func warnAboutUnusedArguments(_ dockerfile: Dockerfile, stages: [Int]) {
        var declared = Set(dockerfile.metaArgDefinitions.map(\.name))
        for index in stages {
            for instruction in dockerfile.stages[index].instructions {
                if case .arg(let definitions) = instruction.kind { declared.formUnion(definitions.map(\.name)) }
            }
        }
        let unused = options.buildArguments.keys.filter { !declared.contains($0) && !ImageBuilder.predefinedArguments.contains($0) }.sorted()
        if !unused.isEmpty { progress.warning("one or more build args were not consumed: [\(unused.joined(separator: " "))]") }
    }
}
