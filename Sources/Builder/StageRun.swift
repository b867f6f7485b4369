#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Dockerfile
import ImageSpec
import Images
import OCISpec

/// One stage being built: its variables in scope, the state so far and the cache key of
/// that state; each instruction moves them on.
struct StageRun {
    let builder: ImageBuilder
    let context: BuildContext
    let dockerfile: Dockerfile
    let graph: StageGraph
    var environment: StageEnvironment
    var state: BuildState
    var key: String
    var author: String?
    let results: [Int: BuildState]
    /// Whether this stage set CMD (an ENTRYPOINT clears only an inherited CMD).
    var setCommand = false
    /// The number of the step being executed, for progress reports.
    var step = 0

    init(builder: ImageBuilder, context: BuildContext, dockerfile: Dockerfile, graph: StageGraph, global: VariableList,
         state: BuildState, key: String, author: String?, results: [Int: BuildState]) {
        self.builder = builder
        self.context = context
        self.dockerfile = dockerfile
        self.graph = graph
        self.key = key
        self.author = author
        self.results = results
        // A base without PATH gets the default one in its config, as BuildKit and buildah do.
        var state = state
        if !(state.config.Env ?? []).contains(where: { $0.hasPrefix("PATH=") }) {
            state.config.Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] + (state.config.Env ?? [])
        }
        self.state = state
        lastCreated = builder.options.timestamp.map { Clock.rfc3339(seconds: Int($0), nanoseconds: 0) }
            ?? state.history.last?.created ?? "1970-01-01T00:00:00Z"
        environment = StageEnvironment(global: global, imageEnvironment: state.config.Env ?? [],
                                       buildArguments: builder.options.buildArguments, escape: dockerfile.directives.escape)
    }

    /// The time of the last step that made (or took from cache) a layer: configuration
    /// steps after it share it, so an unchanged rebuild gives the same image.
    var lastCreated: String

    var now: String { lastCreated }

    /// A layer step's time: `--timestamp`, or the clock.
    var stepTime: String {
        builder.options.timestamp.map { Clock.rfc3339(seconds: Int($0), nanoseconds: 0) } ?? Clock.rfc3339Now()
    }

    func fail(_ instruction: Instruction, _ message: String) -> BuildError {
        .invalid("\(instruction.location): \(instruction.name): \(message)")
    }

    /// A step that only changes the configuration: history without a layer.
    mutating func record(_ createdBy: String) {
        state = state.adding(nil, createdBy: createdBy, created: now)
        key = BuildCache.key(parent: key, step: "config " + createdBy)
    }

    mutating func execute(_ instruction: Instruction) async throws(BuildError) {
        if builder.options.interruption.isRequested { throw .interrupted }
        let expanded: Instruction
        do {
            try environment.apply(instruction)
            expanded = try instruction.expanded(environment, escape: dockerfile.directives.escape)
        } catch {
            throw .wrapping(error)
        }
        var config = state.config
        switch expanded.kind {
        case .from:
            throw fail(instruction, "FROM inside a stage")
        case .run(let run):
            try await execute(run, instruction: instruction)
            return
        case .copy(let copy):
            var request = CopyRequest(sources: copy.sources, hasInlineSources: !copy.inlineSources.isEmpty,
                                      destination: copy.destination, from: copy.from, chown: copy.chown, chmod: copy.chmod,
                                      parents: copy.parents, excludes: copy.excludes)
            request.inline = try copy.inlineSources.map { (source) throws(BuildError) in
                do { return (source.path, try source.heredoc.expandedBody(environment)) } catch { throw .wrapping(error) }
            }
            try await execute(copy: request, instruction: instruction)
            return
        case .add(let add):
            if let git = add.sources.first(where: RemoteSource.isGit) {
                throw fail(instruction, "the git repository \(git) cannot be added yet; clone it in a RUN step")
            }
            if let other = add.sources.first(where: { $0.contains("://") && !RemoteSource.isURL($0) }) {
                throw fail(instruction, "\(other): only http:// and https:// URLs can be added")
            }
            if add.keepGitDir != nil { throw fail(instruction, "--keep-git-dir applies to git sources, which are not supported yet") }
            var request = CopyRequest(sources: add.sources, hasInlineSources: !add.inlineSources.isEmpty, destination: add.destination,
                                      from: nil, chown: add.chown, chmod: add.chmod, parents: false, excludes: add.excludes)
            if let text = add.checksum {
                // BuildKit's rules: one source, and a URL.
                guard add.sources.count == 1, add.inlineSources.isEmpty else { throw fail(instruction, "checksum can't be specified for multiple sources") }
                guard RemoteSource.isURL(add.sources[0]) else { throw fail(instruction, "checksum can't be specified for non-HTTP(S) sources") }
                do { request.checksum = try Digest(parsing: text) } catch { throw fail(instruction, "invalid --checksum \(text): \(error)") }
            }
            // Local archives are unpacked unless --unpack=false; downloads only with --unpack.
            request.unpack = add.unpack != false
            request.unpackDownloads = add.unpack == true
            try await execute(copy: request, instruction: instruction, keyword: "ADD")
            return
        case .arg:
            return  // scope only; BuildKit records no history for ARG
        case .workdir:
            _ = try ConfigInstruction.apply(expanded, to: &config, environment: environment, commandSet: &setCommand)
            state.config = config
            try makeWorkingDirectory(config.WorkingDir ?? "/", instruction: instruction)
            return
        case .cmd, .entrypoint, .env, .label, .expose, .volume, .user, .shell, .stopSignal, .healthcheck, .onbuild:
            _ = try ConfigInstruction.apply(expanded, to: &config, environment: environment, commandSet: &setCommand)
        case .maintainer(let name):
            author = name
        }
        state.config = config
        record(BuildKitHistory.line(for: expanded, config: config))
    }

    func command(_ form: CommandForm) -> [String] {
        ConfigInstruction.command(form, shell: state.config.Shell)
    }

    // MARK: RUN

    mutating func execute(_ run: Instruction.Run, instruction: Instruction) async throws(BuildError) {
        let mounts = try expandMounts(run.mounts, instruction: instruction)
        if run.security == .insecure { throw fail(instruction, "--security=insecure needs an entitlement this build does not grant") }
        let script = try heredocScript(run, instruction: instruction)
        let args: [String]
        if let script {
            args = ["/dev/pipes/" + script.name]
        } else {
            args = try heredocCommand(run, instruction: instruction) ?? command(run.command)
        }
        // ARG values a RUN sees as environment (ENV wins), as BuildKit passes them.
        let arguments = environment.declaredArguments.compactMap { item -> String? in
            guard let value = item.value, environment.imageEnvironment.value(of: item.name) == nil else { return nil }
            return "\(item.name)=\(value)"
        }
        let network: RunStep.Network
        switch run.network {
        case .none: network = .none
        case .host: network = .host
        case .default: network = try builder.defaultNetwork()
        }
        let createdBy: String
        switch run.command {
        case .exec(let list): createdBy = "RUN " + BuildKitHistory.json(list) + " # buildkit"
        case .shell: createdBy = "RUN " + args.joined(separator: " ") + " # buildkit"
        }
        let stepKey = BuildCache.key(parent: key, step: createdBy + "\n" + (script?.body ?? "") + "\n" + run.mounts.map(\.specification).joined(separator: "\n")
                                     + "\n" + arguments.joined(separator: "\n")
                                     + "\n" + (try await bindMountKey(mounts, instruction: instruction))
                                     + "\n" + "\(state.config.Env ?? [])\n\(state.config.User ?? "")\n\(state.config.WorkingDir ?? "")")
        if try useCache(stepKey, createdBy: createdBy) { return }
        let prepared = try await prepareMounts(mounts, instruction: instruction)
        defer { prepared.release() }
        if let script { try prepared.addScript(name: script.name, content: script.body) }
        var runStep = RunStep(command: args, createdBy: createdBy)
        runStep.network = network
        runStep.environment = arguments + prepared.environment
        runStep.timestamp = builder.options.timestamp
        runStep.mounts = prepared.mounts
        runStep.interruption = builder.options.interruption
        runStep.compression = builder.options.compression
        let before = state.layers.count
        let (current, images, options, progress, number) = (state, builder.images, builder.options, builder.progress, step)
        let stepToRun = runStep
        state = try await OwnThread.run { () throws(BuildError) in
            try stepToRun.run(on: current, images: images, runtime: options.runtime, runtimeRoot: options.runtimeRoot,
                              progress: progress, step: number)
        }
        lastCreated = state.history.last?.created ?? stepTime
        builder.cache.store(stepKey, layer: state.layers.count > before ? state.layers.last : nil, created: lastCreated)
        key = stepKey
    }

    /// `RUN <<EOF` whose body starts with `#!`: BuildKit writes it to a file (0755) at
    /// `/dev/pipes/EOF` and runs that, so the interpreter it names runs it.
    func heredocScript(_ run: Instruction.Run, instruction: Instruction) throws(BuildError) -> (name: String, body: String)? {
        guard run.heredocs.count == 1, case .shell(let line) = run.command else { return nil }
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count == 1, words[0].contains("<<"), run.heredocs[0].body.hasPrefix("#!") else { return nil }
        let name = run.heredocs[0].name
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw fail(instruction, "invalid heredoc name \(name)")
        }
        return (name, run.heredocs[0].body)
    }

    /// RUN with heredocs, as BuildKit runs them: a line that is only `<<EOF` runs the body
    /// as a shell script; otherwise the line and the bodies go to the shell together,
    /// which reads them as its own here-documents (expanding unquoted ones at run time).
    func heredocCommand(_ run: Instruction.Run, instruction: Instruction) throws(BuildError) -> [String]? {
        guard !run.heredocs.isEmpty else { return nil }
        guard case .shell(let line) = run.command else {
            throw fail(instruction, "a heredoc in the exec form of RUN is not supported yet; use the shell form")
        }
        let shell = state.config.Shell ?? ["/bin/sh", "-c"]
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if run.heredocs.count == 1, words.count == 1, words[0].contains("<<") {
            return shell + [run.heredocs[0].body]
        }
        var script = line
        for heredoc in run.heredocs {
            script += "\n" + heredoc.content
            if !heredoc.content.isEmpty && !heredoc.content.hasSuffix("\n") { script += "\n" }
            script += heredoc.name
        }
        return shell + [script]
    }

    /// A cached result of `stepKey`, if the cache has one (and --no-cache is not given).
    mutating func useCache(_ stepKey: String, createdBy: String) throws(BuildError) -> Bool {
        guard !builder.options.noCache, let hit = builder.cache.lookup(stepKey, images: builder.images) else { return false }
        builder.progress.cached(step: step)
        state = state.adding(hit.layer, createdBy: createdBy, created: hit.created)
        lastCreated = hit.created
        key = stepKey
        return true
    }

    // MARK: COPY / ADD

    /// What COPY and ADD (of local files) share.
    struct CopyRequest {
        var sources: [String]
        var hasInlineSources: Bool
        var destination: String
        var from: String?
        var chown: String?
        var chmod: String?
        var parents: Bool
        var excludes: [String]
        /// COPY's heredocs: file name and content, written as files of their own.
        var inline: [(name: String, content: String)] = []
        /// ADD: unpack local archives.
        var unpack = false
        /// ADD of URLs: unpack the downloads (`--unpack`), check them (`--checksum`).
        var unpackDownloads = false
        var checksum: Digest?
    }

    mutating func execute(copy: CopyRequest, instruction: Instruction, keyword: String = "COPY") async throws(BuildError) {
        if copy.hasInlineSources && copy.inline.isEmpty { throw fail(instruction, "\(keyword) from a heredoc is not supported yet") }
        if !copy.inline.isEmpty && (!copy.sources.isEmpty || copy.from != nil) {
            throw fail(instruction, "\(keyword) of heredocs together with other sources is not supported yet")
        }
        if copy.parents { throw fail(instruction, "--parents is not supported yet") }
        if !copy.excludes.isEmpty { throw fail(instruction, "--exclude is not supported yet") }
        let urls = copy.sources.filter(RemoteSource.isURL)
        if keyword == "COPY" && !urls.isEmpty { throw fail(instruction, "source can't be a URL for COPY") }
        var source = context
        var copy = copy
        var mounted: (id: String, target: String)?
        var inlineDirectory: String?
        let downloadDirectory = builder.images.root + "/build/" + BuildLeftovers.name("download")
        defer {
            if let mounted {
                try? builder.images.unmountRootfs(id: mounted.id, target: mounted.target)
                rmdir(mounted.target)
            }
            if let inlineDirectory { try? Files.removeTree(inlineDirectory) }
            if !urls.isEmpty { try? Files.removeTree(downloadDirectory) }
        }
        var sourceKey = ""
        if !copy.inline.isEmpty {
            // Heredocs become files (0644) in a context of their own.
            let directory = builder.images.root + "/build/" + BuildLeftovers.name("heredoc")
            inlineDirectory = directory
            do {
                try Files.makeDirectories(directory, mode: 0o755)
                for (name, content) in copy.inline {
                    guard !name.contains("/"), name != ".", name != ".." else { throw BuildError.invalid("heredoc name \(name)") }
                    try Files.write(directory + "/" + name, bytes: Array(content.utf8), mode: 0o644)
                }
                source = try BuildContext(directory: directory, ignoreFiles: false)
            } catch {
                throw .wrapping(error)
            }
            copy.sources = copy.inline.map(\.name)
        }
        if let from = copy.from {
            let fromState: BuildState
            if let index = try stageIndex(from), let built = results[index] {
                fromState = built
            } else {
                let record = try await builder.baseImage(from)
                do { fromState = try BuildState(image: record, in: builder.images) } catch { throw .image(error) }
            }
            let id = BuildLeftovers.name("build-from")
            let target = builder.images.root + "/build/" + id
            do {
                try builder.images.mountLayers(fromState.layers.map { ($0.descriptor, $0.diffID) }, id: id, target: target)
            } catch {
                throw .image(error)
            }
            mounted = (id, target)
            source = try BuildContext(directory: target, ignoreFiles: false)
            sourceKey = fromState.layers.map(\.diffID.description).joined(separator: ",")
        }
        let local = copy.sources.filter { !RemoteSource.isURL($0) }
        var matched: [String] = []
        for pattern in local { matched += try source.sources(matching: pattern) }
        // ADD's own part of the key. URLs are keyed by their content, as BuildKit keys
        // them: downloaded now, unless --checksum pins it (then a cached step needs no download).
        var downloads: [RemoteSource.Download] = []
        var addKey: [String] = []
        if let checksum = copy.checksum {
            addKey = urls.map { [$0, RemoteSource.fileName(of: $0), checksum.description].joined(separator: "\n") }
        } else if !urls.isEmpty {
            downloads = try await download(urls, into: downloadDirectory, checksum: nil, instruction: instruction)
            addKey = downloads.map(\.cacheKey)
        }
        if !urls.isEmpty && copy.unpackDownloads { addKey.append("unpack") }
        if keyword == "ADD" && !copy.unpack { addKey.append("no-unpack") }
        let createdBy = "\(keyword) \(copy.from.map { "--from=\($0) " } ?? "")\(copy.sources.joined(separator: " ")) \(copy.destination) # buildkit"
        let stepKey = BuildCache.key(parent: key, step: ([createdBy, copy.chown ?? "", copy.chmod ?? "", sourceKey,
                                                          try source.digest(of: matched), state.config.WorkingDir ?? ""] + addKey)
                                                         .joined(separator: "\n"))
        if try useCache(stepKey, createdBy: createdBy) { return }
        if !urls.isEmpty && downloads.isEmpty {
            downloads = try await download(urls, into: downloadDirectory, checksum: copy.checksum, instruction: instruction)
        }
        var step = CopyStep(sources: local, destination: copy.destination, createdBy: createdBy)
        step.timestamp = builder.options.timestamp
        step.compression = builder.options.compression
        step.unpackArchives = copy.unpack && copy.from == nil
        step.downloads = downloads
        step.unpackDownloads = copy.unpackDownloads
        if let chown = copy.chown {
            let lower = LowerView(layers: state.layers.reversed().map { builder.images.snapshots.layerPath($0.diffID) })
            step.owner = try lower.resolveOwner(chown)
        }
        if let chmod = copy.chmod {
            guard let bits = UInt32(chmod, radix: 8), bits <= 0o7777 else { throw fail(instruction, "invalid --chmod \(chmod): use an octal mode") }
            step.mode = bits
        }
        let before = state.layers.count
        state = try step.run(on: state, context: source, images: builder.images)
        lastCreated = state.history.last?.created ?? stepTime
        builder.cache.store(stepKey, layer: state.layers.count > before ? state.layers.last : nil, created: lastCreated)
        key = stepKey
    }

    /// ADD's URLs downloaded, a failure naming the instruction's line.
    func download(_ urls: [String], into directory: String, checksum: Digest?,
                  instruction: Instruction) async throws(BuildError) -> [RemoteSource.Download] {
        do {
            return try await RemoteSource.download(urls, into: directory, checksum: checksum)
        } catch {
            if case .invalid(let message) = error { throw fail(instruction, message) }
            throw error
        }
    }

    func stageIndex(_ name: String) throws(BuildError) -> Int? {
        if let number = Int(name) { return number < dockerfile.stages.count ? number : nil }
        return dockerfile.stages.firstIndex { $0.name == name.lowercased() }
    }

    // MARK: WORKDIR

    /// WORKDIR creates its directory when the image lacks it (a small layer), as BuildKit does.
    mutating func makeWorkingDirectory(_ path: String, instruction: Instruction) throws(BuildError) {
        let createdBy = "WORKDIR \(path)"
        let lower = LowerView(layers: state.layers.reversed().map { builder.images.snapshots.layerPath($0.diffID) })
        for layer in state.layers where !builder.images.snapshots.hasLayer(layer.diffID) {
            do {
                try builder.images.snapshots.unpack(blob: builder.images.content.path(for: layer.descriptor.digest),
                                                    mediaType: layer.descriptor.mediaType, diffID: layer.diffID)
            } catch {
                throw .image(error)
            }
        }
        if path == "/" || lower.isDirectory(path) {
            record(createdBy)
            return
        }
        let stepKey = BuildCache.key(parent: key, step: createdBy)
        if try useCache(stepKey, createdBy: createdBy) { return }
        let upper = builder.images.root + "/build/" + BuildLeftovers.name("workdir")
        defer { try? Files.removeTree(upper) }
        do {
            try Files.makeDirectories(upper, mode: 0o755)
            // Created for the stage's USER, as BuildKit and buildah do.
            let owner = try state.config.User.flatMap { $0.isEmpty ? nil : $0 }.map { (user) throws(BuildError) in try lower.resolveOwner(user) }
            var writer = CopyWriter(upper: upper, lower: lower, owner: owner, mode: nil)
            try writer.ensureDirectory(path)
            let layer = try builder.images.commitLayer(upperDirectory: upper, compression: builder.options.compression,
                                                       timestamp: builder.options.timestamp, adopt: true)
            lastCreated = stepTime
            state = state.adding(layer, createdBy: createdBy, created: lastCreated)
            builder.cache.store(stepKey, layer: layer, created: lastCreated)
            key = stepKey
        } catch {
            throw .wrapping(error)
        }
    }
}
