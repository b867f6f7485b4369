import CaissonSys

/// A container's mounts as the engine will set them up, decided once at create for every
/// front end: volumes without a name (`-v /data`, Config.Volumes, the image's VOLUMEs)
/// become anonymous volumes with a random 64-hex name as docker's, and values are checked
/// (absolute targets, one mount per target, bind sources `--mount` requires, propagation
/// and tmpfs options) before anything is made.
enum MountPlanning {
    static let propagations = ["private", "rprivate", "shared", "rshared", "slave", "rslave"]
    /// tmpfs options docker passes on: flags, and the data keys tmpfs knows.
    static let tmpfsFlags = ["ro", "rw", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "sync", "async", "atime",
                             "noatime", "relatime", "norelatime", "strictatime", "nostrictatime", "diratime", "nodiratime",
                             "dirsync", "mand", "nomand", "tmpcopyup", "notmpcopyup"]
    static let tmpfsKeys = ["size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol", "huge"]

    static func plan(_ requested: [MountRequest], imageVolumes: [String]) throws(EngineError) -> [MountRequest] {
        var mounts: [MountRequest] = []
        for var mount in requested {
            let setting: ContainerSetting = mount.kind == .tmpfs ? .tmpfs : (mount.sourceMustExist == true ? .mount : .volume)
            let target = Paths.clean(mount.destination)
            guard mount.destination.hasPrefix("/"), target != "/" else {
                throw .invalidSetting(setting, "invalid mount target \"\(mount.destination)\": an absolute path other than /")
            }
            mount.destination = target
            if mounts.contains(where: { $0.destination == target }) {
                throw .invalidSetting(setting, "duplicate mount point: \(target)")
            }
            switch mount.kind {
            case .bind:
                guard mount.source.hasPrefix("/") else {
                    throw .invalidSetting(setting, "invalid bind source \"\(mount.source)\": an absolute path")
                }
                if mount.sourceMustExist == true, !Files.exists(mount.source) {
                    throw .invalidSetting(.mount, "bind source path does not exist: \(mount.source)")
                }
                if let propagation = mount.propagation, !propagations.contains(propagation) {
                    throw .invalidSetting(setting, "invalid propagation \"\(propagation)\" (private, rprivate, shared, rshared, slave or rslave)")
                }
            case .volume:
                if mount.source.isEmpty {
                    mount.source = ContainerEngine.randomID()
                    mount.anonymous = true
                } else if !ContainerEngine.isValidName(mount.source) {
                    throw .invalidSetting(setting, "\"\(mount.source)\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed")
                }
                if mount.propagation != nil {
                    throw .invalidSetting(setting, "propagation applies to bind mounts, not to volume \(mount.source)")
                }
            case .tmpfs:
                for option in mount.options {
                    let key = option.split(separator: "=", maxSplits: 1).first.map(String.init) ?? option
                    guard option.contains("=") ? tmpfsKeys.contains(key) : tmpfsFlags.contains(option) else {
                        throw .invalidSetting(.tmpfs, "unknown tmpfs option \"\(option)\" for \(target)")
                    }
                }
            }
            mounts.append(mount)
        }
        // The image's VOLUMEs that no mount covers get an anonymous volume each, as in docker.
        for path in imageVolumes.map(Paths.clean).sorted() where path != "/" && !mounts.contains(where: { $0.destination == path }) {
            var volume = MountRequest(kind: .volume, source: ContainerEngine.randomID(), destination: path)
            volume.anonymous = true
            mounts.append(volume)
        }
        return mounts
    }
}
