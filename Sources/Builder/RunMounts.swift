#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Dockerfile
import ImageSpec
import Images
import OCISpec

/// What one RUN step's `--mount`s need while it runs: the OCI mounts, the environment a
/// secret gives (`env=`), and what is undone afterwards: cache-mount locks, the stages
/// mounted as bind sources, the tmpfs holding secrets, scratch copies of the context.
/// Nothing of it reaches the step's layer (the mount points are pruned as stubs).
final class StepMounts {
    var mounts: [Mount] = []
    var environment: [String] = []
    /// How many SSH agent sockets are mounted (they are numbered).
    var sshMounts = 0
    private let images: ImageService
    private var locks: [Int32] = []
    private var stageRoots: [(id: String, target: String)] = []
    private var mountPoints: [String] = []
    private var scratch: [String] = []

    init(images: ImageService) { self.images = images }

    /// A scratch directory of the build area, removed by `release`.
    func scratchDirectory(_ kind: String) throws(BuildError) -> String {
        let directory = images.root + "/build/" + BuildLeftovers.name(kind)
        do { try Files.makeDirectories(directory, mode: 0o700) } catch { throw .system(error) }
        scratch.append(directory)
        return directory
    }

    /// A stage's (or image's) root filesystem mounted for reading, unmounted by `release`.
    func mountStage(_ state: BuildState) throws(BuildError) -> String {
        let id = BuildLeftovers.name("build-from")
        let target = images.root + "/build/" + id
        do {
            try images.mountLayers(state.layers.map { ($0.descriptor, $0.diffID) }, id: id, target: target)
        } catch {
            throw .image(error)
        }
        stageRoots.append((id, target))
        return target
    }

    /// A tmpfs (never written to disk) for secrets, unmounted by `release`.
    func secretDirectory() throws(BuildError) -> String {
        let directory = try scratchDirectory("secrets")
        guard mount("tmpfs", directory, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=0700,size=16m") == 0 else {
            throw .system(SysError("mount tmpfs", path: directory))
        }
        mountPoints.append(directory)
        return directory
    }

    /// A heredoc script (`RUN <<EOF` with `#!`), mounted read-only at `/dev/pipes/NAME`.
    func addScript(name: String, content: String) throws(BuildError) {
        let file = try scratchDirectory("script") + "/" + name
        do { try Files.write(file, bytes: Array(content.utf8), mode: 0o755) } catch { throw .system(error) }
        _ = chmod(file, 0o755)
        mounts.append(Mount(destination: "/dev/pipes/" + name, type: "bind", source: file, options: ["rbind", "ro"]))
    }

    /// Holds a lock on `path` until `release`.
    func lock(_ path: String, exclusive: Bool) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = flock(fd, exclusive ? LOCK_EX : LOCK_SH)
        locks.append(fd)
    }

    func release() {
        for fd in locks { close(fd) }
        locks.removeAll()
        for point in mountPoints.reversed() { _ = umount2(point, Int32(MNT_DETACH)) }
        mountPoints.removeAll()
        for (id, target) in stageRoots.reversed() {
            try? images.unmountRootfs(id: id, target: target)
            rmdir(target)
        }
        stageRoots.removeAll()
        for directory in scratch.reversed() { try? Files.removeTree(directory) }
        scratch.removeAll()
    }
}

extension StageRun {
    /// The `--mount` values with the stage's variables substituted and targets made absolute.
    func expandMounts(_ mounts: [RunMount], instruction: Instruction) throws(BuildError) -> [RunMount] {
        var result: [RunMount] = []
        for mount in mounts {
            var expanded: RunMount
            do {
                let lexer = environment.lexer
                let env = environment
                expanded = try RunMount(parsing: mount.specification) { (word) throws(DockerfileError) in try lexer.word(word, env) }
            } catch {
                throw BuildError.invalid("\(instruction.location): RUN --mount=\(mount.specification): \(error)")
            }
            if let target = expanded.target, !target.hasPrefix("/") {
                let directory = state.config.WorkingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
                expanded.target = (directory.hasSuffix("/") ? directory : directory + "/") + target
            }
            switch expanded.type {
            case .bind, .cache, .tmpfs:
                guard expanded.target != nil else {
                    throw fail(instruction, "--mount=\(mount.specification): a \(expanded.type.rawValue) mount needs target=")
                }
            case .ssh:
                if expanded.mode != nil || expanded.uid != nil || expanded.gid != nil {
                    throw fail(instruction, "--mount=\(mount.specification): mode, uid and gid of an ssh mount are not supported (the agent's socket keeps its own)")
                }
            case .secret:
                break
            }
            result.append(expanded)
        }
        return result
    }

    /// Where a bind mount's files come from: another stage's (or an image's) state, or the
    /// build context when nil.
    func bindSourceState(_ mount: RunMount, instruction: Instruction) async throws(BuildError) -> BuildState? {
        guard let from = mount.from else { return nil }
        if let index = dockerfile.stages.firstIndex(where: { $0.name == from.lowercased() }) {
            guard let built = results[index] else { throw fail(instruction, "stage \(from) has not been built") }
            return built
        }
        let record = try await builder.baseImage(from)
        do { return try BuildState(image: record, in: builder.images) } catch { throw .image(error) }
    }

    /// What the step's result depends on through its bind mounts: the content of the
    /// context files they read, or the layers of the stage they come from.
    func bindMountKey(_ mounts: [RunMount], instruction: Instruction) async throws(BuildError) -> String {
        var parts: [String] = []
        for mount in mounts where mount.type == .bind {
            let source = BuildContext.clean(mount.source ?? ".")
            if let state = try await bindSourceState(mount, instruction: instruction) {
                parts.append("stage \(source) " + state.layers.map(\.diffID.description).joined(separator: ","))
            } else {
                guard let resolved = try contextSource(source, instruction: instruction) else {
                    throw fail(instruction, "bind mount source \(mount.source ?? ".") not found in the build context or excluded by .dockerignore")
                }
                parts.append("context \(source) " + (try context.digest(of: [resolved])))
            }
        }
        return parts.joined(separator: "\n")
    }

    /// A context path, its symlinks resolved inside the context; nil when missing or ignored.
    func contextSource(_ source: String, instruction: Instruction) throws(BuildError) -> String? {
        guard let host = InRootPath.resolve(source, in: context.root) else { return nil }
        let relative = host == context.root ? "." : String(host.dropFirst(context.root.count + 1))
        return context.skips(relative) ? nil : relative
    }

    /// Makes `mounts` ready for a step: cache directories (kept across builds, one per id;
    /// `sharing=locked` and `private` hold a lock for the step), tmpfs, secrets from
    /// `--secret` (a file on a tmpfs, or `env=`), binds of the context or another stage
    /// (read-only unless `rw`, whose writes are thrown away). The caller releases it.
    func prepareMounts(_ mounts: [RunMount], instruction: Instruction) async throws(BuildError) -> StepMounts {
        let prepared = StepMounts(images: builder.images)
        do {
            for mount in mounts {
                switch mount.type {
                case .cache: try prepareCache(mount, into: prepared)
                case .tmpfs:
                    var options = ["nosuid", "nodev"]
                    if let size = mount.sizeLimit { options.append("size=\(size)") }
                    prepared.mounts.append(Mount(destination: mount.target ?? "/", type: "tmpfs", source: "tmpfs", options: options))
                case .secret: try prepareSecret(mount, into: prepared, instruction: instruction)
                case .bind: try await prepareBind(mount, into: prepared, instruction: instruction)
                case .ssh: try prepareSSH(mount, into: prepared, instruction: instruction)
                }
            }
        } catch {
            prepared.release()
            throw .wrapping(error)
        }
        return prepared
    }

    private func prepareCache(_ mount: RunMount, into prepared: StepMounts) throws(BuildError) {
        let target = mount.target ?? "/"
        let id = mount.id ?? target
        let directory = BuildCache.mountsDirectory(root: builder.images.root) + "/" + Digest.sha256(of: Array(id.utf8)).encoded
        if !Files.exists(directory) {
            do { try Files.makeDirectories(directory, mode: 0o755) } catch { throw .system(error) }
            _ = chmod(directory, mount.mode ?? 0o755)
            _ = chown(directory, mount.uid ?? 0, mount.gid ?? 0)
        }
        // Every use holds the lock shared (so `builder prune` leaves it alone); locked and
        // private mounts hold it exclusively, one step at a time.
        prepared.lock(directory + ".lock", exclusive: mount.sharing == .locked || mount.sharing == .private)
        prepared.mounts.append(Mount(destination: target, type: "bind", source: directory,
                                     options: ["rbind", mount.readOnly ? "ro" : "rw"]))
    }

    private func prepareSecret(_ mount: RunMount, into prepared: StepMounts, instruction: Instruction) throws(BuildError) {
        guard let id = mount.id ?? mount.target.map(Paths.base) else {
            throw fail(instruction, "a secret mount needs id= or target=")
        }
        guard let secret = builder.options.secrets[id] else {
            if mount.required { throw fail(instruction, "secret \(id) is required but was not given (use --secret id=\(id),src=FILE)") }
            return
        }
        if let variable = mount.env {
            prepared.environment.append("\(variable)=\(String(decoding: secret.value, as: UTF8.self))")
            if mount.target == nil { return }
        }
        let directory = try prepared.secretDirectory()
        let file = directory + "/" + RandomID.hex(16)
        do {
            try Files.write(file, bytes: secret.value, mode: 0o600)
        } catch {
            throw .system(error)
        }
        _ = chown(file, mount.uid ?? 0, mount.gid ?? 0)
        _ = chmod(file, mount.mode ?? 0o400)
        prepared.mounts.append(Mount(destination: mount.target ?? "/run/secrets/" + id, type: "bind", source: file,
                                     options: ["rbind", "ro", "nosuid", "nodev", "noexec"]))
    }

    /// The SSH agent socket `--ssh` gave for the mount's id (`default` when none), bound at
    /// the target (`/run/buildkit/ssh_agent.N` by default) with `SSH_AUTH_SOCK` naming it,
    /// as BuildKit forwards it; skipped when not given, unless `required`.
    private func prepareSSH(_ mount: RunMount, into prepared: StepMounts, instruction: Instruction) throws(BuildError) {
        let id = mount.id ?? "default"
        guard let socket = builder.options.sshSockets[id] else {
            if mount.required { throw fail(instruction, "the SSH agent \(id) is required but was not given (use --ssh \(id)=SOCKET, or --ssh default)") }
            return
        }
        let index = prepared.sshMounts
        prepared.sshMounts += 1
        let target = mount.target ?? "/run/buildkit/ssh_agent.\(index)"
        prepared.mounts.append(Mount(destination: target, type: "bind", source: socket, options: ["rbind", "nosuid", "nodev", "noexec"]))
        if index == 0 { prepared.environment.append("SSH_AUTH_SOCK=" + target) }
    }

    private func prepareBind(_ mount: RunMount, into prepared: StepMounts, instruction: Instruction) async throws(BuildError) {
        let source = BuildContext.clean(mount.source ?? ".")
        var host: String
        if let state = try await bindSourceState(mount, instruction: instruction) {
            // A stage mounted on its own overlay: writes of an `rw` bind land in its upper
            // directory and go with it.
            let root = try prepared.mountStage(state)
            guard let resolved = InRootPath.resolve(source, in: root) else {
                throw fail(instruction, "bind mount source \(mount.source ?? ".") not found in \(mount.from ?? "")")
            }
            host = resolved
        } else {
            guard let relative = try contextSource(source, instruction: instruction) else {
                throw fail(instruction, "bind mount source \(mount.source ?? ".") not found in the build context or excluded by .dockerignore")
            }
            host = context.path(of: relative)
            // The context is the user's: a copy where writes are allowed, a copy without the
            // ignored files where .dockerignore applies (hard links when read-only).
            if !mount.readOnly || context.ignore != nil {
                let copy = try prepared.scratchDirectory("bind") + "/source"
                try ContextCopy(context: context, linking: mount.readOnly).copy(relative, to: copy)
                host = copy
            }
        }
        prepared.mounts.append(Mount(destination: mount.target ?? "/", type: "bind", source: host,
                                     options: ["rbind", mount.readOnly ? "ro" : "rw"]))
    }
}

/// A copy of part of the build context without what `.dockerignore` leaves out: hard links
/// (for a read-only mount; a copy where links cannot be made) or copies (for a writable one).
struct ContextCopy {
    let context: BuildContext
    let linking: Bool

    func copy(_ relative: String, to destination: String) throws(BuildError) {
        let source = context.path(of: relative)
        var info = stat()
        guard lstat(source, &info) == 0 else { throw .system(SysError("stat", path: source)) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            guard mkdir(destination, 0o700) == 0 || errno == EEXIST else { throw .system(SysError("mkdir", path: destination)) }
            let names: [String]
            do { names = try Files.listDirectory(source).sorted() } catch { throw .system(error) }
            for name in names {
                let child = relative == "." ? name : relative + "/" + name
                if !context.skips(child) { try copy(child, to: destination + "/" + name) }
            }
        case S_IFREG:
            if linking && link(source, destination) == 0 { return }  // the same inode: owner and mode are already right
            try copyContent(source, to: destination)
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(source, &target, Int(PATH_MAX))
            guard count >= 0 else { throw .system(SysError("readlink", path: source)) }
            target[count] = 0
            guard symlink(target, destination) == 0 else { throw .system(SysError("symlink", path: destination)) }
            _ = lchown(destination, info.st_uid, info.st_gid)
            return
        default:
            return  // sockets, fifos and devices are not part of a build context
        }
        _ = lchown(destination, info.st_uid, info.st_gid)
        _ = chmod(destination, info.st_mode & 0o7777)
    }

    private func copyContent(_ source: String, to destination: String) throws(BuildError) {
        let input = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard input >= 0 else { throw .system(SysError("open", path: source)) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw .system(SysError("create", path: destination)) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let count = read(input, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .system(SysError("read", path: source)) }
            if count == 0 { return }
            do { try Files.writeAll(fd: output, bytes: Array(buffer[0..<count]), path: destination) } catch { throw .system(error) }
        }
    }
}
