#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import ImageSpec
import Images
import OCISpec

/// A RUN step: the command runs in a real container (the OCI runtime, on an overlay of
/// the stage's layers so far under a fresh upper directory), its output streamed to the
/// build's output; the upper directory then becomes the step's layer (or no layer when
/// nothing changed). Whatever happens, the mount, the runtime's state and the writable
/// directory are gone when it returns.
public struct RunStep: Sendable {
    /// How the step's container reaches the network.
    public enum Network: Sendable, Equatable {
        /// The host's network namespace.
        case host
        /// A network namespace of its own with only loopback.
        case none
        /// A network namespace the caller made (the build's, on a bridge network), which
        /// the build's steps share.
        case namespace(String)
    }

    public var command: [String]
    public var network: Network = .host
    /// Extra environment for this step only (build args in scope), after the config's.
    public var environment: [String] = []
    /// The history line, docker's way: `RUN /bin/sh -c make` or `RUN ["make"]`.
    public var createdBy: String
    /// The `--timestamp` of reproducible builds: layer times and history dates.
    public var timestamp: Int64?
    /// `RUN --mount`s, as OCI mounts (cache directories, tmpfs): present for this step only.
    public var mounts: [Mount] = []
    /// How the step's layer is compressed.
    public var compression: LayerCompression = .gzip
    /// Told which container runs, so that an interruption can end it.
    public var interruption: BuildInterruption?

    public init(command: [String], createdBy: String) {
        self.command = command
        self.createdBy = createdBy
    }

    /// Lines of output kept for the error when the command fails.
    static let keptLines = 10

    /// Runs the step on `state`; `output` receives the command's stdout and stderr.
    public func run(on state: BuildState, images: ImageService, runtime: String, runtimeRoot: String,
                    output: Int32) throws(BuildError) -> BuildState {
        try run(on: state, images: images, runtime: runtime, runtimeRoot: runtimeRoot, progress: PlainProgress(fd: output), step: 0)
    }

    /// Runs the step on `state`; `progress` receives the command's stdout and stderr as step `step`'s.
    public func run(on state: BuildState, images: ImageService, runtime: String, runtimeRoot: String,
                    progress: any BuildProgress, step: Int) throws(BuildError) -> BuildState {
        let id = BuildLeftovers.name("build")
        let bundle = images.root + "/build/" + id
        let rootfs = bundle + "/rootfs"
        do {
            try Files.makeDirectories(bundle, mode: 0o700)
        } catch {
            throw .system(error)
        }
        var mounted = false
        var created = false
        var stubs: MountStubs?
        defer {
            if created { _ = try? Spawn.run([runtime, "--root", runtimeRoot, "delete", "-f", id]) }
            if mounted { try? images.unmountRootfs(id: id, target: rootfs) }
            try? Files.removeTree(bundle)
        }
        do {
            try images.mountLayers(state.layers.map { ($0.descriptor, $0.diffID) }, id: id, target: rootfs)
            mounted = true
            var overrides = RunOverrides()
            overrides.entrypoint = []
            overrides.command = command
            overrides.env = environment
            var spec = try images.makeSpec(config: state.config, rootfs: rootfs, overrides: overrides)
            spec.hostname = "caisson-build"
            switch network {
            case .host:
                spec.linux?.namespaces?.removeAll { $0.type == "network" }
                spec.mounts = (spec.mounts ?? []).filter { $0.destination != "/sys" } + [
                    Mount(destination: "/sys", type: "bind", source: "/sys", options: ["rbind", "ro", "nosuid", "noexec", "nodev"]),
                ]
            case .namespace(let path):
                spec.linux?.namespaces?.removeAll { $0.type == "network" }
                spec.linux?.namespaces?.append(Namespace(type: "network", path: path))
            case .none:
                break
            }
            if network != .none {
                for file in ["/etc/resolv.conf", "/etc/hosts"] where Files.exists(file) && Files.exists(rootfs + "/etc") {
                    spec.mounts?.append(Mount(destination: file, type: "bind", source: file, options: ["rbind", "ro"]))
                }
            }
            spec.mounts = (spec.mounts ?? []) + mounts
            try Files.write(bundle + "/config.json", bytes: SpecJSON.encode(spec), mode: 0o600)
            stubs = MountStubs(spec: spec, rootfs: rootfs)
        } catch {
            throw .wrapping(error)
        }

        let status: Int32
        var tail = OutputTail(limit: RunStep.keptLines)
        do {
            var pipe: [Int32] = [-1, -1]
            guard caisson_pipe2(&pipe, O_CLOEXEC) == 0 else { throw SysError("pipe") }
            let pid: pid_t
            let nothing = open("/dev/null", O_RDONLY | O_CLOEXEC)
            interruption?.stepStarting(runtime: runtime, runtimeRoot: runtimeRoot, id: id)
            do {
                created = true
                pid = try Spawn.start([runtime, "--root", runtimeRoot, "run", "--bundle", bundle, id],
                                      Spawn.Options(stdin: nothing, stdout: pipe[1], stderr: pipe[1]))
            } catch {
                close(pipe[0]); close(pipe[1]); close(nothing)
                throw error
            }
            close(pipe[1])
            close(nothing)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(pipe[0], &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                tail.add(buffer[0..<count])
                progress.output(step: step, buffer[0..<count])
            }
            close(pipe[0])
            status = try Processes.waitForExit(pid)
            interruption?.stepEnded(id: id)
        } catch {
            interruption?.stepEnded(id: id)
            throw .wrapping(error)
        }
        if interruption?.isRequested == true { throw .interrupted }
        if status != 0 {
            throw .stepFailed(step: createdBy, status: status, lastLines: tail.lines)
        }
        // The runtime's state goes first; then the mount, then the upper directory is the layer.
        _ = try? Spawn.run([runtime, "--root", runtimeRoot, "delete", "-f", id])
        created = false
        do {
            try images.unmountRootfs(keepingUpper: id, target: rootfs)
            mounted = false
            let upper = images.upperDirectory(ofRootfs: id)
            stubs?.prune(upper: upper, lowers: state.layers.reversed().map { images.snapshots.layerPath($0.diffID) })
            let layer = try images.commitLayer(upperDirectory: upper, compression: compression, timestamp: timestamp, adopt: true)
            try images.releaseRootfs(id: id)
            return state.adding(layer, createdBy: createdBy, created: timestamp.map { Clock.rfc3339(seconds: Int($0), nanoseconds: 0) } ?? Clock.rfc3339Now())
        } catch {
            try? images.releaseRootfs(id: id)
            throw .wrapping(error)
        }
    }
}

/// The last lines of a stream, for an error message.
struct OutputTail {
    let limit: Int
    private var current: [UInt8] = []
    private(set) var finished: [String] = []

    init(limit: Int) { self.limit = limit }

    mutating func add(_ bytes: ArraySlice<UInt8>) {
        for byte in bytes {
            if byte == 0x0A {
                finished.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
                if finished.count > limit { finished.removeFirst(finished.count - limit) }
            } else if current.count < 4096 {
                current.append(byte)
            }
        }
    }

    var lines: [String] {
        let all = current.isEmpty ? finished : finished + [String(decoding: current, as: UTF8.self)]
        return Array(all.suffix(limit))
    }
}
