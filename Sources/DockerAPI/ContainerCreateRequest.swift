import Engine

/// `POST /containers/create`'s body (docker's ContainerConfig with HostConfig and
/// NetworkingConfig inside) as the engine's `ContainerConfig`, the same one `caisson
/// create` builds from its flags: values are read here (a wrong type is a 400 naming the
/// field), and the engine checks them as it checks the CLI's, its `invalidSetting` errors
/// naming the field through `ContainerSetting.apiField`. A field this API does not carry
/// out, set to anything but its zero value, is refused by name, never ignored.
enum ContainerCreateRequest {
    /// The Config fields read (or, for the attach flags and ArgsEscaped, meaningless here).
    static let configFields: Set<String> = [
        "Hostname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd",
        "Image", "Volumes", "WorkingDir", "Entrypoint", "NetworkDisabled", "Labels", "StopSignal", "StopTimeout",
        "ExposedPorts", "ArgsEscaped", "HostConfig", "NetworkingConfig",
    ]

    static func config(from bytes: [UInt8]) throws(DockerAPIError) -> ContainerConfig {
        let body = try JSONBody(parsing: bytes)
        try body.refuseFields(except: configFields)
        guard let image = try body.string("Image"), !image.isEmpty else {
            throw .badParameter("invalid field Image: no image given")
        }
        var config = ContainerConfig(image: image)
        if let command = try body.strings("Cmd", acceptingString: true), !command.isEmpty { config.command = command }
        if let entrypoint = try body.strings("Entrypoint", acceptingString: true) {
            // docker --entrypoint "" sends [""]: no entrypoint at all.
            config.entrypoint = entrypoint.allSatisfy(\.isEmpty) ? [] : entrypoint
        }
        config.env = try body.strings("Env") ?? []
        if let directory = try body.string("WorkingDir"), !directory.isEmpty {
            guard directory.hasPrefix("/") else {
                throw .badParameter("invalid field WorkingDir: the working directory '\(directory)' is invalid, it needs to be an absolute path")
            }
            config.workingDir = directory
        }
        if let user = try body.string("User"), !user.isEmpty { config.user = user }
        if let hostname = try body.string("Hostname"), !hostname.isEmpty { config.hostname = hostname }
        config.labels = try body.stringMap("Labels") ?? [:]
        config.tty = try body.bool("Tty") ?? false
        config.interactive = try body.bool("OpenStdin") ?? false
        if let signal = try body.string("StopSignal"), !signal.isEmpty { config.stopSignal = signal }
        if let timeout = try body.int64("StopTimeout") { config.stopTimeout = Int(timeout) }
        let host = try body.object("HostConfig")
        if let host { try HostConfigRequest.apply(host, to: &config) }
        if try body.bool("NetworkDisabled") == true { config.network = "none" }
        try PortsRequest.apply(body, host: host, to: &config)
        try MountsRequest.apply(body, host: host, to: &config)
        if let networking = try body.object("NetworkingConfig") {
            try NetworkingRequest.apply(networking, hostNetworkMode: try host?.string("NetworkMode"), to: &config)
        }
        return config
    }
}
