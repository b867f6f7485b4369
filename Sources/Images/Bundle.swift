#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import ImageSpec
import OCISpec

/// What the user asked to change from the image's own settings (`caisson run` flags).
public struct RunOverrides: Sendable {
    public var entrypoint: [String]?
    public var command: [String]?
    public var env: [String] = []
    public var user: String?
    public var workingDir: String?
    public var hostname: String?
    public var terminal = false
    public var readOnly = false

    public init() {}
}

/// Mounted root filesystems and the OCI bundles built on them.
extension ImageService {
    /// Mounts (overlay) or copies (vfs) an image's layers at `target`; `id` names the
    /// writable layer and the lease that keeps the image's layers from being collected.
    public func mountRootfs(_ record: ImageRecord, id: String, target: String) throws(ImageError) {
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }), !id.isEmpty else {
            throw .invalid("invalid root filesystem id \"\(id)\"")
        }
        let config = try config(of: record)
        let manifest = try manifest(of: record)
        try mountLayers(zip(manifest.layers, config.rootfs.diff_ids).map { ($0, $1) }, id: id, target: target)
    }

    /// The writable (upper) directory of a root filesystem mounted with the overlay driver:
    /// what a build step changed, once unmounted.
    public func upperDirectory(ofRootfs id: String) -> String { root + "/rootfs/" + id + "/upper" }

    /// Mounts (overlay) or copies (vfs) `layers` (bottom first) at `target`: an image's, or
    /// a build's layers so far, which no registered image names yet.
    public func mountLayers(_ layers: [(descriptor: Descriptor, diffID: Digest)], id: String, target: String) throws(ImageError) {
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }), !id.isEmpty else {
            throw .invalid("invalid root filesystem id \"\(id)\"")
        }
        let diffIDs = layers.map(\.diffID)
        let state = root + "/rootfs/" + id
        do {
            try Files.makeDirectories(target, mode: 0o755)
            try Files.makeDirectories(state, mode: 0o700)
        } catch {
            throw .system(error)
        }
        try writeLease("rootfs-" + id, layers: diffIDs)
        do throws(ImageError) {
            switch snapshots.driver {
            case .overlay:
                for (layer, diffID) in layers where !snapshots.hasLayer(diffID) {
                    try snapshots.unpack(blob: content.path(for: layer.digest), mediaType: layer.mediaType, diffID: diffID)
                }
                do {
                    try Files.makeDirectories(state + "/upper", mode: 0o755)
                    try Files.makeDirectories(state + "/work", mode: 0o700)
                } catch {
                    throw ImageError.system(error)
                }
                var lower = diffIDs.reversed().map { snapshots.layerPath($0) }
                if lower.isEmpty {
                    // An image without layers: an empty lower directory.
                    try? Files.makeDirectories(state + "/empty", mode: 0o755)
                    lower = [state + "/empty"]
                }
                let options = "lowerdir=\(lower.joined(separator: ":")),upperdir=\(state)/upper,workdir=\(state)/work"
                guard options.utf8.count < 4000 else {
                    throw ImageError.invalid("image has too many layers for one overlay mount (\(diffIDs.count))")
                }
                if mount("overlay", target, "overlay", 0, options) != 0 {
                    throw ImageError.system(SysError("mount overlay", path: target))
                }
            case .vfs:
                for (layer, diffID) in layers {
                    try SnapshotStore.apply(blob: content.path(for: layer.digest), mediaType: layer.mediaType, diffID: diffID,
                                            into: target, mode: .apply)
                }
            }
        } catch {
            dropLease("rootfs-" + id)
            try? Files.removeTree(state)
            throw error
        }
    }

    /// Unmounts a root filesystem but keeps its writable layer (a build step's changes,
    /// to be committed), and its lease, until `releaseRootfs`.
    public func unmountRootfs(keepingUpper id: String, target: String) throws(ImageError) {
        if snapshots.driver == .overlay, umount2(target, 0) != 0 && errno != EINVAL && errno != ENOENT {
            throw .system(SysError("umount", path: target))
        }
    }

    /// Removes what `unmountRootfs(keepingUpper:)` kept.
    public func releaseRootfs(id: String) throws(ImageError) {
        do { try Files.removeTree(root + "/rootfs/" + id) } catch { throw .system(error) }
        dropLease("rootfs-" + id)
    }

    /// Undoes `mountRootfs`: unmounts, removes the writable layer and the lease.
    public func unmountRootfs(id: String, target: String) throws(ImageError) {
        if snapshots.driver == .overlay {
            if umount2(target, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
                throw .system(SysError("umount", path: target))
            }
        } else {
            do { try Files.removeTree(target) } catch { throw .system(error) }
        }
        do { try Files.removeTree(root + "/rootfs/" + id) } catch { throw .system(error) }
        dropLease("rootfs-" + id)
    }

    /// Writes `bundle/config.json` for an image whose root filesystem is at `bundle/rootfs`.
    public func writeBundleConfig(_ record: ImageRecord, bundle: String, overrides: RunOverrides) throws(ImageError) {
        let spec = try makeSpec(record, rootfs: bundle + "/rootfs", overrides: overrides)
        do {
            try Files.write(bundle + "/config.json", bytes: SpecJSON.encode(spec, pretty: true), mode: 0o600)
        } catch {
            throw .system(error)
        }
    }

    /// The OCI runtime configuration for running an image: its entrypoint, command,
    /// environment, working directory and user (resolved through the image's own
    /// /etc/passwd and /etc/group), with the user's overrides, on docker's defaults.
    public func makeSpec(_ record: ImageRecord, rootfs: String, overrides: RunOverrides) throws(ImageError) -> Spec {
        var spec = try makeSpec(config: try config(of: record).config ?? ImageConfig.RunConfig(), rootfs: rootfs, overrides: overrides)
        if let name = record.repoTags.first {
            spec.annotations = (spec.annotations ?? [:]).merging(["org.opencontainers.image.ref.name": name]) { $1 }
        }
        return spec
    }

    /// The same from a run configuration (a build step's, before any image holds it).
    public func makeSpec(config image: ImageConfig.RunConfig, rootfs: String, overrides: RunOverrides) throws(ImageError) -> Spec {
        var spec = DefaultSpec.make(rootless: false)
        let entrypoint = overrides.entrypoint ?? image.Entrypoint ?? []
        let command = overrides.command ?? (overrides.entrypoint != nil ? [] : image.Cmd ?? [])
        let args = entrypoint + command
        guard !args.isEmpty else { throw .invalid("No command specified") }  // dockerd's words
        let user = try UserResolver(rootfs: rootfs).resolve(overrides.user ?? image.User ?? "")
        var env = image.Env ?? []
        if !env.contains(where: { $0.hasPrefix("PATH=") }) {
            env.insert("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", at: 0)
        }
        // An entry without `=` (`-e NAME` with NAME unset where the client ran) unsets
        // NAME, as dockerd's ReplaceOrAppendEnvValues has it: never `NAME` alone in the
        // process's environment, which the OCI spec refuses.
        for item in overrides.env {
            let key = item.split(separator: "=", maxSplits: 1).first.map(String.init) ?? item
            env.removeAll { $0 == key || $0.hasPrefix(key + "=") }
            if item.contains("=") { env.append(item) }
        }
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=\(user.home ?? "/")") }
        if overrides.terminal, !env.contains(where: { $0.hasPrefix("TERM=") }) { env.append("TERM=xterm") }
        let dockerCaps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                          "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                          "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
        spec.process?.args = args
        spec.process?.env = env
        spec.process?.terminal = overrides.terminal
        spec.process?.cwd = overrides.workingDir ?? (image.WorkingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/")
        spec.process?.user = User(uid: user.uid, gid: user.gid, additionalGids: user.processGroups)
        spec.process?.capabilities = Capabilities(bounding: dockerCaps, effective: dockerCaps, permitted: dockerCaps)
        spec.process?.noNewPrivileges = false
        spec.root = Root(path: "rootfs", readonly: overrides.readOnly ? true : nil)
        spec.hostname = overrides.hostname ?? spec.hostname
        var annotations: [String: String] = [:]
        for (key, value) in image.Labels ?? [:] { annotations[key] = value }
        if let signal = image.StopSignal { annotations["org.opencontainers.image.stopSignal"] = signal }
        spec.annotations = annotations.isEmpty ? nil : annotations
        return spec
    }
}
