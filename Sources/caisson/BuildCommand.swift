#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Builder
import CaissonSys
import ImageSpec
import Images
import LayerArchive

/// `caisson build`: an image from a Containerfile or Dockerfile, daemonless, through the
/// `Builder` module over the same image store and OCI runtime as `caisson run`.
struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an image from a Containerfile or Dockerfile.",
        usage: "caisson build [OPTIONS] PATH | -")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Name and optionally a tag (NAME[:TAG]); may be repeated.")
    var tag: [String] = []
    @Option(name: .shortAndLong, help: "The Dockerfile (default: PATH/Containerfile, else PATH/Dockerfile).")
    var file: String?
    @Option(help: "The stage to build (default: the last).")
    var target: String?
    @Option(name: .customLong("build-arg"), help: "A build argument KEY=VALUE (or KEY: its value here); may be repeated.")
    var buildArg: [String] = []
    @Flag(name: .customLong("no-cache"), help: "Run every step, using no cached result.")
    var noCache = false
    @Option(help: "Pull the base images: missing (default), always or never.")
    var pull: String = "missing"
    @Option(help: "Add a label KEY=VALUE to the image; may be repeated.")
    var label: [String] = []
    @Option(help: "Write the image ID to this file.")
    var iidfile: String?
    @Option(help: "The network of RUN steps: default (the host's), host or none.")
    var network: String = "default"
    @Flag(name: .shortAndLong, help: "Print only the image ID.")
    var quiet = false
    @Option(help: "Progress output: auto or plain (lines per step, RUN output streamed).")
    var progress: String = "auto"
    @Option(help: "Image format: oci.")
    var format: String = "oci"
    @Option(help: "Layer compression: gzip or none.")
    var compression: String = "gzip"
    @Option(help: "Set every layer's file times and the image's dates to this Unix time (reproducible builds).")
    var timestamp: Int64?
    @Option(help: "The OCI runtime of RUN steps: caisson-runtime, runc, crun or a path.")
    var runtime: String = "caisson-runtime"
    @Option(help: "Not supported yet: refused.") var secret: [String] = []
    @Option(help: "Not supported yet: refused.") var output: String?
    @Argument(help: "The build context: a directory, or - for a tar archive on standard input.")
    var context: String

    func validate() throws {
        if !secret.isEmpty { throw ValidationError("--secret is not supported yet") }
        if output != nil { throw ValidationError("--output is not supported yet: the image goes into Caisson's store (save it with caisson save)") }
        guard ["missing", "always", "never", "true", "false"].contains(pull) else {
            throw ValidationError("invalid --pull \"\(pull)\": use missing, always or never")
        }
        guard ["default", "host", "none"].contains(network) else {
            throw ValidationError("invalid --network \"\(network)\": use default, host or none")
        }
        guard ["auto", "plain"].contains(progress) else {
            throw ValidationError(progress == "tty" ? "--progress tty is not supported yet: use auto or plain" : "invalid --progress \"\(progress)\": use auto or plain")
        }
        guard format == "oci" else {
            throw ValidationError(format == "docker" ? "--format docker is not supported yet: images are written in the OCI format" : "invalid --format \"\(format)\": use oci")
        }
        guard ["gzip", "none"].contains(compression) else {
            throw ValidationError(compression == "zstd" ? "--compression zstd is not supported yet: use gzip or none" : "invalid --compression \"\(compression)\": use gzip or none")
        }
        for name in tag {
            do { _ = try ImageReference(parsing: name) } catch { throw ValidationError("invalid tag \"\(name)\": \(error)") }
        }
        for item in label where !item.contains("=") { throw ValidationError("invalid --label \"\(item)\": use KEY=VALUE") }
    }

    func run() async throws {
        let engine = try global.engine()
        let service = engine.images
        let runtimePath = try engine.resolveRuntime(runtime)
        var directory = context
        var unpacked: String?
        defer { if let unpacked { try? Files.removeTree(unpacked) } }
        if context == "-" {
            let staging = service.root + "/build/" + BuildLeftovers.name("context")
            try Files.makeDirectories(staging, mode: 0o700)
            unpacked = staging
            var reader = TarReader(FileSource(fd: 0, path: "standard input"))
            defer { reader.close() }
            _ = try LayerApplier(root: staging, mode: .apply).apply(&reader)
            directory = staging
        }
        guard Files.isDirectory(directory) else { throw CLIError.usage("build context \(context) is not a directory") }
        var options = BuildOptions(context: directory, runtime: runtimePath, runtimeRoot: engine.runtimeRoot(for: runtimePath))
        options.dockerfile = file
        options.tags = tag
        options.target = target
        options.noCache = noCache
        options.timestamp = timestamp
        options.compression = compression == "none" ? .none : .gzip
        options.network = network == "none" ? .none : .host
        for item in buildArg {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                options.buildArguments[parts[0]] = parts[1]
            } else if let value = getenv(item) {
                options.buildArguments[item] = String(cString: value)
            }
        }
        for item in label {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            options.labels[parts[0]] = parts.count == 2 ? parts[1] : ""
        }
        let policy = pull == "true" ? "always" : pull == "false" ? "missing" : pull
        let builder = ImageBuilder(images: service, options: options, output: 1, quiet: quiet) { (name) throws(BuildError) in
            if policy != "always", let record = try? service.resolve(name) { return record }
            if policy == "never" { throw .invalid("image \(name) is not present and --pull=never was given") }
            do {
                return try await withRegistryClient(service) { client in
                    try await service.pull(name, client: client)
                }
            } catch let error as ImageError {
                throw .image(error)
            } catch {
                throw .invalid("\(error)")
            }
        }
        let record: ImageRecord
        do {
            record = try await builder.build()
        } catch {
            throw CLIError.failed("build failed: \(error)")
        }
        if let iidfile { try Files.write(iidfile, bytes: Array(record.id.description.utf8), mode: 0o644) }
        if quiet {
            print(record.id.description)
        } else {
            print("COMMIT \(tag.first ?? "")")
            print("--> \(record.id.encoded.prefix(12))")
            for name in tag { print("Successfully tagged \(name)") }
            print(record.id.encoded)
        }
    }
}

/// `caisson builder`: the build cache.
struct BuilderGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "builder", abstract: "Manage the build cache.", usage: "caisson builder COMMAND",
        subcommands: [BuilderPrune.self])
}

struct BuilderPrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Forget every cached build step.", usage: "caisson builder prune [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Do not ask for confirmation (the prune never asks).")
    var force = false
    @Flag(name: .shortAndLong, help: "All cached steps (the only kind there is).")
    var all = false

    func run() throws {
        let service = try global.imageService()
        let engine = try? global.engine()
        let runtime = try? engine?.resolveRuntime("caisson-runtime")
        BuildLeftovers.sweep(images: service, runtime: runtime, runtimeRoot: runtime.flatMap { engine?.runtimeRoot(for: $0) })
        let removed = BuildCache(root: service.root).clear()
        let reclaimed = try service.garbageCollect()
        print("Deleted build cache objects: \(removed)")
        print("Total reclaimed space: \(reclaimed) B")
    }
}
