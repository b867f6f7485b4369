#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Images
import OCISpec

/// What a `docker exec` asks of a command beside the container's own process: its
/// arguments, terminal, extra environment, working directory, user and privileges.
public struct ExecSettings: Sendable, Equatable {
    public var command: [String]
    public var tty = false
    /// `NAME=VALUE` entries set over the container's environment.
    public var env: [String] = []
    public var workingDir: String?
    /// `user[:group]`, names resolved in the container's files.
    public var user: String?
    public var privileged = false

    public init(command: [String]) { self.command = command }
}

extension ContainerEngine {
    /// The container's process settings (from its config.json) with the exec's changes,
    /// written as a file for `runtime exec --process`; its path.
    public func writeExecProcess(_ record: ContainerRecord, _ settings: ExecSettings) throws(EngineError) -> String {
        let configPath = bundle(of: record.id) + "/config.json"
        let spec: Spec
        do { spec = try SpecJSON.decodeSpec(try Files.readBytes(configPath), file: configPath) } catch {
            throw .runtime("cannot read the configuration of container \(record.name): \(error)")
        }
        var process = spec.process ?? Process()
        process.args = settings.command
        process.terminal = settings.tty
        process.consoleSize = nil
        var env = process.env ?? []
        for entry in settings.env {
            let name = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            env.removeAll { $0 == name || $0.hasPrefix(name + "=") }
            if entry.contains("=") { env.append(entry) }  // `NAME` alone unsets it, as in dockerd
        }
        process.env = env
        if let directory = settings.workingDir, !directory.isEmpty {
            try checkExecDirectory(record, directory)
            process.cwd = directory
        }
        if let user = settings.user, !user.isEmpty {
            let resolved: UserResolver.Resolved
            do { resolved = try UserResolver(rootfs: bundle(of: record.id) + "/rootfs").resolve(user) } catch {
                throw .invalid(error.description)  // "unable to find user NAME: no matching entries in passwd file"
            }
            process.user = User(uid: resolved.uid, gid: resolved.gid, umask: process.user.umask,
                                additionalGids: resolved.processGroups)
            // The user's own home, as docker's exec gives it, unless -e said otherwise.
            if !settings.env.contains(where: { $0.hasPrefix("HOME=") }) {
                env.removeAll { $0.hasPrefix("HOME=") }
                env.append("HOME=" + (resolved.home ?? "/"))
                process.env = env
            }
        }
        if settings.privileged {
            let all = SpecBuilder.allCapabilities
            process.capabilities = Capabilities(bounding: all, effective: all, inheritable: nil, permitted: all, ambient: nil)
        }
        if let command = settings.command.first {
            try ExecutableCheck.verify(command, rootfs: bundle(of: record.id) + "/rootfs", environment: env)
        }
        let file = directory(of: record.id) + "/exec-" + String(ContainerEngine.randomID().prefix(12)) + ".json"
        do { try Files.write(file, bytes: SpecJSON.encode(process), mode: 0o600) } catch {
            throw .system(error)
        }
        return file
    }

    /// An exec's working directory must exist in the container (runc's exec does not make
    /// it, as the container's start does): refused before the runtime runs, in the words
    /// dockerd passes on from runc, which the API turns into exit status 126.
    func checkExecDirectory(_ record: ContainerRecord, _ directory: String) throws(EngineError) {
        let prefix = "OCI runtime exec failed: exec failed: "
        guard directory.hasPrefix("/") else { throw .invalid(prefix + "Cwd must be an absolute path: unknown") }
        var why: String?
        do {
            let place = try locate(record, directory)
            defer { close(place.root) }
            let fd = try openInRoot(place.root, record, place.path, follow: true)
            defer { close(fd) }
            var info = stat()
            if fstat(fd, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
                why = "not a directory: unknown: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type"
            }
        } catch {
            if case .noSuchPath = error { why = "no such file or directory: unknown" }
        }
        if let why {
            throw .invalid(prefix + "unable to start container process: chdir to cwd (\"\(directory)\") set in config.json failed: \(why)")
        }
    }
}
