#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import Builder
import CaissonSys
import ImageSpec
import ImageScanning
import Images
import CaissonShim
import LayerArchive
import Synchronization

/// `caisson build`: an image from a Containerfile or Dockerfile, daemonless, through the
/// `Builder` module over the same image store and OCI runtime as `caisson run`.
struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an image from a Containerfile or Dockerfile.",
        usage: "caisson build [OPTIONS] PATH | -")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Name and optionally a tag (NAME[:TAG]); may be repeated.")
    var tag: [String] = []
    @Option(name: .shortAndLong, help: "The Dockerfile (default: PATH/Containerfile, else PATH/Dockerfile); - reads it from standard input.")
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
    @Option(help: "The network of RUN steps: default (a namespace of the build's own on the bridge network, as a container's), host or none.")
    var network: String = "default"
    @Flag(name: .shortAndLong, help: "Print only the image ID.")
    var quiet = false
    @Option(help: "Progress output: tty (a live view of the steps with timings, on standard error), plain (STEP lines, RUN output streamed) or auto (tty on a terminal).")
    var progress: String = "auto"
    @Option(help: "Image manifest format: oci, or docker (Docker's v2 schema 2 media types).")
    var format: String = "oci"
    @Option(help: "Compression of the layers the build makes: gzip, zstd (OCI format only) or none.")
    var compression: String = "gzip"
    @Option(help: "Set every layer's file times and the image's dates to this Unix time (reproducible builds).")
    var timestamp: Int64?
    @Option(help: "The OCI runtime of RUN steps: caisson-runtime, runc, crun or a path.")
    var runtime: String = "caisson-runtime"
    @Option(help: "A secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VARIABLE; may be repeated.")
    var secret: [String] = []
    @Option(help: "An SSH agent for RUN --mount=type=ssh: default (SSH_AUTH_SOCK) or ID=SOCKET; may be repeated.")
    var ssh: [String] = []
    @Option(name: .shortAndLong, help: "Also write the result: type=local,dest=DIR (the root filesystem), type=tar,dest=FILE|- (it as a tar), type=oci,dest=FILE (an OCI archive), type=docker,dest=FILE (a docker archive); DIR alone means type=local.")
    var output: String?
    @Flag(help: "Scan the built image against the vulnerability database and print the findings (caisson scan's table; to standard error with -q).")
    var scan = false
    @Argument(help: "The build context: a directory, or - for a tar archive on standard input.")
    var context: String

    func validate() throws {
        if let output { _ = try BuildOutput(parsing: output) }
        if file == "-" && context == "-" {
            throw ValidationError("the Dockerfile (-f -) and the context (-) cannot both come from standard input")
        }
        guard ["missing", "always", "never", "true", "false"].contains(pull) else {
            throw ValidationError("invalid --pull \"\(pull)\": use missing, always or never")
        }
        guard ["default", "bridge", "host", "none"].contains(network) else {
            throw ValidationError("invalid --network \"\(network)\": use default (bridge), host or none")
        }
        guard ["auto", "plain", "tty"].contains(progress) else {
            throw ValidationError("invalid --progress \"\(progress)\": use auto, plain or tty")
        }
        guard let imageFormat = ImageFormat(rawValue: format) else {
            throw ValidationError("invalid --format \"\(format)\": use oci or docker")
        }
        guard ["gzip", "none", "zstd"].contains(compression) else {
            throw ValidationError("invalid --compression \"\(compression)\": use gzip, zstd or none")
        }
        if imageFormat == .docker && compression == "zstd" {
            throw ValidationError("--compression zstd needs --format oci: Docker's image format has no zstd layers")
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
            // Spooled first: the archive may be compressed (gzip, zstd, bzip2, xz), as the
            // Docker API's build contexts are, and both unpack it the same way.
            try Files.makeDirectories(service.root + "/build", mode: 0o700)
            let spool = service.root + "/build/" + BuildLeftovers.name("context") + ".tar"
            defer { unlink(spool) }
            let fd = open(spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 { throw CLIError.failed(SysError("open", path: spool).description) }
            do {
                defer { close(fd) }
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let count = read(0, &buffer, buffer.count)
                    if count < 0 && errno == EINTR { continue }
                    if count < 0 { throw CLIError.failed(SysError("read", path: "standard input").description) }
                    if count == 0 { break }
                    try Files.writeAll(fd: fd, bytes: Array(buffer[0..<count]))
                }
            }
            let staging = try BuildContextArchive.unpack(spool, images: service)
            unpacked = staging
            directory = staging
        }
        guard Files.isDirectory(directory) else { throw CLIError.usage("build context \(context) is not a directory") }
        var options = BuildOptions(context: directory, runtime: runtimePath, runtimeRoot: engine.runtimeRoot(for: runtimePath))
        options.dockerfile = file
        var dockerfileFromInput: String?
        defer { if let dockerfileFromInput { try? Files.removeTree(dockerfileFromInput) } }
        if file == "-" {
            // `-f -`: the Dockerfile on standard input, the context from the path.
            let staging = service.root + "/build/" + BuildLeftovers.name("dockerfile")
            try Files.makeDirectories(staging, mode: 0o700)
            dockerfileFromInput = staging
            try Files.write(staging + "/Dockerfile", bytes: try Files.readAll(fd: 0, path: "standard input"), mode: 0o600)
            options.dockerfile = staging + "/Dockerfile"
        }
        options.tags = tag
        options.target = target
        options.noCache = noCache
        options.timestamp = timestamp
        options.compression = compression == "none" ? .none : compression == "zstd" ? .zstd : .gzip
        options.format = ImageFormat(rawValue: format) ?? .oci
        // The default network is made when the first RUN needs it, and removed at the end.
        let buildNetwork = Mutex<BuildNetwork?>(nil)
        defer { buildNetwork.withLock { $0?.remove() } }
        switch network {
        case "none": options.network = .none
        case "host": options.network = .host
        default:
            options.makeNetwork = { () throws(BuildError) in
                do {
                    let made = try BuildNetwork.create(engine)
                    buildNetwork.withLock { $0 = made }
                    return made.path
                } catch {
                    throw .invalid("cannot make the build's network (use --network host or none to do without): \(error)")
                }
            }
        }
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
        var variables: [String: String] = [:]
        for entry in Processes.currentEnvironment() {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { variables[parts[0]] = parts[1] }
        }
        for item in ssh {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let id = parts[0]
            guard let socket = parts.count == 2 ? parts[1] : (id == "default" ? variables["SSH_AUTH_SOCK"] : nil), !socket.isEmpty else {
                throw CLIError.usage(id == "default" ? "--ssh default: SSH_AUTH_SOCK is not set (start ssh-agent, or give --ssh default=SOCKET)"
                                                     : "invalid --ssh \"\(item)\": use default or ID=SOCKET")
            }
            var info = stat()
            guard stat(socket, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else {
                throw CLIError.usage("--ssh \(item): \(socket) is not an SSH agent socket (key files are not supported: load them with ssh-add into an agent)")
            }
            options.sshSockets[id] = socket
        }
        for item in secret {
            let parsed = try BuildSecret.parse(item, environment: variables)
            options.secrets[parsed.id] = parsed
        }
        let policy = BaseImagePolicy(rawValue: pull == "true" ? "always" : pull == "false" ? "missing" : pull) ?? .missing
        let live = !quiet && (progress == "tty" || (progress == "auto" && BuildLiveView.isTerminal)) ? BuildLiveView() : nil
        let builder = ImageBuilder(images: service, options: options,
                                   progress: live ?? PlainProgress(fd: quiet ? -1 : 1), baseImage: policy.source(service))
        let record: ImageRecord
        BuildSignals.install(options.interruption)
        defer { live?.finish() }
        do {
            record = try await builder.build()
            live?.finish()
        } catch .interrupted {
            throw CLIError.failedWithStatus("build interrupted: nothing was kept", 128 + BuildSignals.received)
        } catch {
            throw CLIError.failed("build failed: \(error)")
        }
        if let iidfile { try Files.write(iidfile, bytes: Array(record.id.description.utf8), mode: 0o644) }
        if let output {
            // The image stays in the store too (untagged without -t): its layers are the cache's.
            try BuildOutput(parsing: output).write(record, images: service)
        }
        if quiet {
            print(record.id.description)
        } else {
            print("COMMIT \(tag.first ?? "")")
            print("--> \(record.id.encoded.prefix(12))")
            for name in tag { print("Successfully tagged \(name)") }
            print(record.id.encoded)
        }
        if scan {
            let report: ScanReport
            do {
                report = try global.scanner(service).scan(record, name: tag.first ?? record.id.description)
            } catch {
                throw CLIError.failed("built \(record.id.encoded.prefix(12)), but could not scan it: \(error)")
            }
            if quiet { writeError(report.table()) } else { printOut(report.table()) }
        }
    }
}

/// Where `caisson build --output` writes the result.
struct BuildOutput {
    enum Kind: String { case local, tar, oci, docker }
    var kind: Kind
    var destination: String

    init(parsing text: String) throws {
        guard text.contains("=") else {
            kind = text == "-" ? .tar : .local
            destination = text
            return
        }
        var fields: [String: String] = [:]
        for field in text.split(separator: ",") {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("invalid --output \"\(text)\": expected KEY=VALUE fields") }
            fields[parts[0]] = parts[1]
        }
        guard let type = fields["type"], let kind = Kind(rawValue: type) else {
            throw ValidationError("invalid --output \"\(text)\": type must be local, tar, oci or docker")
        }
        guard let destination = fields["dest"] ?? fields["destination"], !destination.isEmpty else {
            throw ValidationError("invalid --output \"\(text)\": dest= is required")
        }
        if kind == .local && destination == "-" { throw ValidationError("--output type=local needs a directory, not -") }
        self.kind = kind
        self.destination = destination
    }

    func write(_ record: ImageRecord, images: ImageService) throws {
        switch kind {
        case .oci, .docker:
            let fd = destination == "-" ? 1 : open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 { throw CLIError.failed(SysError("open", path: destination).description) }
            defer { if fd != 1 { close(fd) } }
            try images.save([record.id.description], format: kind == .oci ? .ociArchive : .dockerArchive, to: fd, path: destination)
        case .tar, .local:
            let id = BuildLeftovers.name("output")
            let target = images.root + "/build/" + id
            try images.mountRootfs(record, id: id, target: target)
            defer {
                try? images.unmountRootfs(id: id, target: target)
                rmdir(target)
            }
            let start = open(target, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
            if start < 0 { throw CLIError.failed(SysError("open", path: target).description) }
            defer { close(start) }
            let archive = kind == .tar && destination != "-" ? destination : target + ".tar"
            let fd = kind == .tar && destination == "-" ? 1 : open(archive, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if fd < 0 { throw CLIError.failed(SysError("open", path: archive).description) }
            defer { if fd != 1 { close(fd) } }
            var writer = TarWriter(FileSink(fd: fd, path: archive))
            var archiver = TreeArchiver()
            try archiver.archive(fd: start, name: ".", into: &writer)
            try writer.finish()
            if kind == .local {
                defer { unlink(archive) }
                lseek(fd, 0, SEEK_SET)
                try Files.makeDirectories(destination, mode: 0o755)
                var reader = TarReader(FileSource(fd: fd, path: archive))
                defer { reader.close() }
                _ = try LayerApplier(root: destination, mode: .apply).apply(&reader)
            } else if fd != 1 {
                _ = fchmod(fd, 0o644)
            }
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
        let pruned = try BuildCache.prune(images: service, runtime: runtime, runtimeRoot: runtime.flatMap { engine?.runtimeRoot(for: $0) })
        print("Deleted build cache objects: \(pruned.keys.count + pruned.mounts)")
        print("Total reclaimed space: \(pruned.reclaimed) B")
    }
}

/// SIGINT, SIGTERM and SIGHUP during a build stop it cleanly (`BuildInterruption`) instead
/// of killing this process halfway through a step, which would leave its container and
/// mount behind.
enum BuildSignals {
    private static let first = Atomic<Int32>(0)

    /// The signal that stopped the build (the first that came; SIGINT when none did).
    static var received: Int32 { first.load(ordering: .relaxed) == 0 ? SIGINT : first.load(ordering: .relaxed) }

    static func install(_ interruption: BuildInterruption) {
        SignalPipe.install([SIGINT, SIGTERM, SIGHUP]) { signal in
            _ = first.compareExchange(expected: 0, desired: signal, ordering: .relaxed)
            interruption.request()
        }
    }
}
