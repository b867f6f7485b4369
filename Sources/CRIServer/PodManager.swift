#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import Cgroups
import Engine
import Images

/// The pods of one node: sandboxes and their containers, created through an OCI
/// runtime under a `caisson-monitor` each (so they outlive the daemon), with images from
/// the Images module and networking from CNI. The CRI handlers are a thin layer on top.
public final class PodManager: Sendable {
    public let options: CRIOptions
    public let images: ImageService
    let store: PodStore
    let network: PodNetwork
    let cni: CNI
    let cgroupLayout: CgroupLayout?
    let cpuSamples = CPUSamples()

    public init(_ options: CRIOptions) throws {
        self.options = options
        images = try ImageService(ImageStoreOptions(root: options.root, registriesConf: options.registriesConf,
                                                    authFile: options.authFile))
        store = try PodStore(root: options.root + "/cri")
        cni = CNI(pluginDirectories: options.cniPluginDirectories, stateDirectory: options.runRoot + "/cni",
                  helper: options.monitorPath, markerDirectory: options.runRoot + "/cri-networks")
        network = PodNetwork(configDirectory: options.cniConfigDirectory, cni: cni,
                             cacheDirectory: options.runRoot + "/cri-cni-cache")
        cgroupLayout = try? CgroupLayout.detect()
        try Files.makeDirectories(options.runRoot, mode: 0o711)
    }

    // MARK: Runtimes

    /// The OCI runtime of a runtime handler ("" is the default: caisson-runtime beside
    /// the daemon, unless configured otherwise).
    func runtimePath(handler: String) throws(CRIError) -> String {
        if let configured = options.runtimeHandlers[handler] { return configured }
        if handler.isEmpty || handler == "caisson-runtime" || handler == "runc" || handler == "crun" {
            let name = handler.isEmpty ? "caisson-runtime" : handler
            let beside = Paths.parent(options.monitorPath) + "/" + name
            if access(beside, X_OK) == 0 { return beside }
            for directory in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            where access(directory + "/" + name, X_OK) == 0 {
                return directory + "/" + name
            }
            throw .failedPrecondition("the OCI runtime \(name) of runtime handler \"\(handler)\" is not installed")
        }
        throw .invalid("unknown runtime handler \"\(handler)\" (configured: \(options.runtimeHandlers.keys.sorted().joined(separator: ", ")))")
    }

    /// Each runtime keeps its state apart (runc's and ours differ in format).
    func runtimeRoot(for runtimePath: String) -> String { options.runRoot + "/cri-runtime-" + Paths.base(runtimePath) }

    /// Runs the runtime and returns its output; throws with its error output.
    @discardableResult
    func runtime(_ runtimePath: String, _ arguments: [String]) throws(CRIError) -> [UInt8] {
        let result: (status: Int32, output: [UInt8], error: [UInt8])
        do {
            result = try Spawn.capture([runtimePath, "--root", runtimeRoot(for: runtimePath)] + arguments)
        } catch {
            throw .failed("cannot run \(runtimePath): \(error)")
        }
        guard result.status == 0 else {
            let message = String(decoding: result.error, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            throw .failed("\(Paths.base(runtimePath)) \(arguments.first ?? ""): \(message.isEmpty ? "exit status \(result.status)" : message)")
        }
        return result.output
    }

    // MARK: Monitors

    /// Starts a monitor for the bundle in `directory` and has it create and start the
    /// container; returns the container's init PID.
    func startUnderMonitor(directory: String, id: String, runtimePath: String, extra: [String]) throws(CRIError) -> Int32 {
        for name in ["exit", "started", "stop-requested", "init.pid"] { unlink(directory + "/" + name) }
        let arguments = [options.monitorPath, "--dir", directory, "--id", id, "--runtime", runtimePath,
                         "--runtime-root", runtimeRoot(for: runtimePath), "--bundle", directory + "/bundle"] + extra
        let channel: Int32
        do { channel = try MonitorLaunch.start(arguments) } catch {
            throw .failed("cannot start the container monitor: \(error)")
        }
        defer { close(channel) }
        let created = Files.readLine(fd: channel)
        guard let pid = MonitorLaunch.createdPID(created) else { throw PodManager.startFailure(created) }
        try? Files.writeAll(fd: channel, bytes: Array("start\n".utf8))
        let started = Files.readLine(fd: channel)
        guard started == "started" else { throw PodManager.startFailure(started) }
        return pid
    }

    static func startFailure(_ reply: String) -> CRIError {
        var message = reply.hasPrefix("error: ") ? String(reply.dropFirst(7)) : reply
        if message.isEmpty { message = "the container monitor ended without a report" }
        return .failed("failed to start the container: \(message)")
    }


    /// Signals the container (through the runtime), then SIGKILL after `timeout` seconds,
    /// and waits until its monitor has recorded the exit.
    func stopProcess(directory: String, id: String, runtimePath: String, signal: String, timeout: Int64) throws(CRIError) {
        guard store.state(ofDirectory: directory).status == .running else { return }
        try? Files.write(directory + "/stop-requested", "")
        if timeout > 0 {
            _ = try? runtime(runtimePath, ["kill", id, signal])
            if waitForExit(directory: directory, milliseconds: timeout * 1000) { return }
        }
        _ = try? runtime(runtimePath, ["kill", "--all", id, "KILL"])
        _ = try? runtime(runtimePath, ["kill", id, "KILL"])
        if !waitForExit(directory: directory, milliseconds: 10_000) {
            throw .failed("container \(id) did not stop")
        }
    }

    /// Waits until the monitor has gone (it records the exit and deletes the runtime's container first).
    func waitForExit(directory: String, milliseconds: Int64) -> Bool {
        let deadline = Clock.monotonicMilliseconds() + milliseconds
        while true {
            let monitor = (try? Files.readTrimmed(directory + "/monitor.pid")).flatMap { Int32($0) }
            let alive = monitor.map { kill($0, 0) == 0 && ContainerEngine.isMonitor($0) } ?? false
            if !alive { return true }
            if Clock.monotonicMilliseconds() >= deadline { return false }
            Clock.sleep(milliseconds: 10)
        }
    }

    /// The cgroup files the monitor reads for OOM kills, for a cgroups path.
    func oomFile(cgroupsPath: String) -> String? {
        guard let layout = cgroupLayout, let hierarchy = layout.hierarchy(for: "memory") else { return nil }
        let path = cgroupsPath.hasPrefix("/") ? cgroupsPath : "/" + cgroupsPath
        switch hierarchy.version {
        case .v1: return hierarchy.mountPoint + path + "/memory.oom_control"
        case .v2: return hierarchy.mountPoint + path + "/memory.events"
        }
    }
}
