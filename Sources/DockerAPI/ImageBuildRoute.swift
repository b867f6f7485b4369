import Builder
import CaissonJSON
import CaissonSys
import Engine
import ImageSpec
import Images
import NIOHTTP1
import Registry
import RegistryConfig
import Synchronization

/// `POST /build`: docker's classic builder API (`DOCKER_BUILDKIT=0 docker build`) over the
/// `Builder` module, the code `caisson build` runs. The body is the context as a tar
/// archive (plain, gzip, bzip2, xz or zstd); the answer is docker's JSON stream: `Step N/M`
/// lines and RUN output, `{"aux":{"ID":...}}`, `Successfully built`, `Successfully tagged`,
/// or an `errorDetail` line when the build fails (the status is already 200 by then).
/// Parameters the builder has no equivalent for are refused by name with 400.
extension DockerAPI {
    func addImageBuildRoute(_ router: inout Router) {
        router.add(.POST, "/build", body: .file) { [self] request in
            let settings = try BuildRequest(request)
            guard let bodyFile = request.bodyFile else {
                throw DockerAPIError.badParameter("the build context is missing: send it as the body (a tar archive)")
            }
            // The context is unpacked before the stream starts: a broken archive is a 400/500.
            let service = engine.images
            let runtime = try engine.resolveRuntime("caisson-runtime")
            let runtimeRoot = engine.runtimeRoot(for: runtime)
            let contextDirectory = try await blocking { () throws -> String in
                let directory: String
                do throws(BuildError) { directory = try BuildContextArchive.unpack(bodyFile, images: service) } catch {
                    if case .invalid(let reason) = error { throw DockerAPIError.badParameter(reason) }
                    throw error
                }
                // Found before the stream starts, so a missing one is an HTTP error, as dockerd's.
                guard Files.exists(directory + "/" + settings.dockerfile) else {
                    try? Files.removeTree(directory)
                    throw DockerAPIError.badParameter("Cannot locate specified Dockerfile: \(settings.dockerfile)")
                }
                return directory
            }
            var options = BuildOptions(context: contextDirectory, runtime: runtime, runtimeRoot: runtimeRoot)
            options.dockerfile = contextDirectory + "/" + settings.dockerfile
            options.tags = settings.tags
            options.target = settings.target
            options.noCache = settings.noCache
            options.buildArguments = settings.buildArguments
            options.labels = settings.labels
            options.format = .docker
            let engine = self.engine
            let buildNetwork = Mutex<BuildNetwork?>(nil)
            switch settings.network {
            case .host: options.network = .host
            case .none: options.network = .none
            case .bridge:
                options.makeNetwork = { () throws(BuildError) in
                    do {
                        let made = try BuildNetwork.create(engine)
                        buildNetwork.withLock { $0 = made }
                        return made.path
                    } catch {
                        throw .invalid("cannot make the build's network (use networkmode host or none to do without): \(error)")
                    }
                }
            }
            let builderOptions = options
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            return APIResponse(status: .ok, headers: headers, body: .stream { stream in
                defer {
                    buildNetwork.withLock { $0?.remove() }
                    try? Files.removeTree(contextDirectory)
                }
                let (lines, sink) = AsyncStream<JSONObject>.makeStream()
                let progress = BuildStreamProgress(sink: sink, quiet: settings.quiet)
                let builder = ImageBuilder(images: service, options: builderOptions, progress: progress,
                                           baseImage: settings.pull.source(service, explicit: settings.credentials))
                let build = Task {
                    defer { sink.finish() }
                    do throws(BuildError) {
                        let record = try await builder.build()
                        for line in BuildRequest.resultLines(record, tags: settings.tags, quiet: settings.quiet) { sink.yield(line) }
                    } catch {
                        sink.yield(DockerAPI.errorLine(BuildRequest.message(error)))
                    }
                }
                do {
                    for await line in lines {
                        try await stream.send(JSONEncoding.serialize(.object(line)) + [0x0A])
                    }
                } catch {
                    // The client went away: stop the build between steps, its step's container killed.
                    builderOptions.interruption.request()
                    await build.value
                    throw error
                }
                await build.value
            })
        }
    }

    /// docker's last line of a stream that failed: `{"errorDetail":{"message":M},"error":M}`.
    static func errorLine(_ message: String) -> JSONObject {
        var detail = JSONObject()
        detail.set("message", .string(message))
        var line = JSONObject()
        line.set("errorDetail", .object(detail))
        line.set("error", .string(message))
        return line
    }
}
