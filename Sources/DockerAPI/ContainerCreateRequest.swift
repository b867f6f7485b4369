import Engine

/// `POST /containers/create`'s body (docker's ContainerConfig with HostConfig and
/// NetworkingConfig inside) as the engine's `ContainerConfig`, the same one `caisson
/// create` builds from its flags: values are read here (a wrong type is a 400 naming the
/// field), and the engine checks them as it checks the CLI's, its `invalidSetting` errors
/// naming the field through `ContainerSetting.apiField`. A field this API does not carry
/// out, set to anything but its zero value, is refused by name, never ignored.
package enum ContainerCreateRequest {
    /// The Config fields read (or, for the attach flags and ArgsEscaped, meaningless here).
    static let configFields: Set<String> = [
        "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd",
        "Image", "Volumes", "WorkingDir", "Entrypoint", "NetworkDisabled", "Labels", "StopSignal", "StopTimeout",
        "ExposedPorts", "ArgsEscaped", "Healthcheck", "HostConfig", "NetworkingConfig",
    ]

    package static func config(from bytes: [UInt8]) throws(DockerAPIError) -> ContainerConfig {
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
        if let domain = try body.string("Domainname"), !domain.isEmpty { config.domainname = domain }
        config.labels = try body.stringMap("Labels") ?? [:]
        config.tty = try body.bool("Tty") ?? false
        config.interactive = try body.bool("OpenStdin") ?? false
        config.stdinOnce = try body.bool("StdinOnce")
        if let signal = try body.string("StopSignal"), !signal.isEmpty { config.stopSignal = signal }
        if let timeout = try body.int64("StopTimeout") { config.stopTimeout = Int(timeout) }
        if let check = try body.object("Healthcheck") { config.healthcheck = try healthcheck(check) }
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

    /// `Config.Healthcheck`: Test (`["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]`, or
    /// `[]` for the image's), durations in nanoseconds, zero for the image's or docker's
    /// default; the engine checks the values as docker's daemon does.
    static func healthcheck(_ body: JSONBody) throws(DockerAPIError) -> HealthConfig {
        var check = HealthConfig(test: try body.strings("Test").flatMap { $0.isEmpty ? nil : $0 })
        func nonZero(_ key: String) throws(DockerAPIError) -> Int64? {
            guard let value = try body.int64(key), value != 0 else { return nil }
            return value
        }
        check.Interval = try nonZero("Interval")
        check.Timeout = try nonZero("Timeout")
        check.StartPeriod = try nonZero("StartPeriod")
        check.StartInterval = try nonZero("StartInterval")
        if let retries = try nonZero("Retries") {
            guard let value = Int(exactly: retries) else { throw .badParameter("invalid field \(body.path("Retries")): \(retries)") }
            check.Retries = value
        }
        return check
    }
}
