import ImageSpec

/// A container's run configuration as docker keeps it (`Config` in its inspect document,
/// what `commit` starts from): the settings given at create laid over the image's by
/// dockerd's merge rules. The record keeps only what was given, so the image's part is
/// read again from the image.
extension ContainerEngine {
    public func runConfig(of record: ContainerRecord) -> ImageConfig.RunConfig {
        ContainerEngine.runConfig(record.config, over: imageRunConfig(record) ?? ImageConfig.RunConfig())
    }

    /// dockerd's merge (`daemon.merge`): the given value wins; the environment is the given
    /// variables followed by the image's that they do not set; labels, exposed ports and
    /// volumes are unions; an entrypoint given (an empty one too) drops the image's
    /// command, a command given keeps the image's entrypoint.
    public static func runConfig(_ given: ContainerConfig, over image: ImageConfig.RunConfig) -> ImageConfig.RunConfig {
        var config = ImageConfig.RunConfig()
        config.User = given.user ?? image.User
        let exposed = PortPublishing.exposed(given, image: image.ExposedPorts.map { Array($0.keys) } ?? [])
        if !exposed.isEmpty { config.ExposedPorts = Dictionary(uniqueKeysWithValues: exposed.map { ($0, EmptyObject()) }) }
        config.Env = mergedEnvironment(given.env, image: image.Env ?? [])
        if let entrypoint = given.entrypoint {
            // `--entrypoint ""` too: no entrypoint, and not the image's command either.
            config.Entrypoint = entrypoint.isEmpty ? nil : entrypoint
            config.Cmd = given.command
        } else {
            config.Cmd = given.command.flatMap { $0.isEmpty ? nil : $0 } ?? image.Cmd
            config.Entrypoint = image.Entrypoint
        }
        var volumes = image.Volumes ?? [:]
        for mount in given.mounts where mount.anonymous == true { volumes[mount.destination] = EmptyObject() }
        config.Volumes = volumes.isEmpty ? nil : volumes
        config.WorkingDir = given.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? image.WorkingDir
        let labels = (image.Labels ?? [:]).merging(given.labels) { $1 }
        config.Labels = labels.isEmpty ? nil : labels
        config.StopSignal = given.stopSignal ?? image.StopSignal
        config.Healthcheck = given.healthcheck ?? image.Healthcheck
        return config
    }

    /// The given `NAME=value` variables, then the image's whose names they do not set.
    public static func mergedEnvironment(_ given: [String], image: [String]) -> [String] {
        func name(_ item: String) -> Substring { item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
        let givenNames = Set(given.map(name))
        return given + image.filter { !givenNames.contains(name($0)) }
    }
}
