/// docker's `--security-opt` values (HostConfig.SecurityOpt holds the same strings), read
/// once for both front ends: `no-new-privileges[:true|false]`, `seccomp=unconfined`,
/// `seccomp=PROFILE` (the profile's JSON, which docker's CLI reads from the file it was
/// given), `systempaths=unconfined`; `label=disable` and `apparmor=unconfined` are what
/// the engine does anyway, so they are accepted only on a host without SELinux or
/// AppArmor (where they would ask the engine to turn off something it never applied).
/// Anything else (labels, AppArmor profiles) is refused by name.
extension ContainerConfig {
    public mutating func applySecurityOptions(_ options: [String]) throws(EngineError) {
        for option in options {
            // docker takes both KEY=VALUE and the old KEY:VALUE.
            let separator = option.firstIndex(where: { $0 == "=" || $0 == ":" })
            let key = separator.map { String(option[..<$0]) } ?? option
            let value = separator.map { String(option[option.index(after: $0)...]) }
            switch (key, value) {
            case ("no-new-privileges", nil), ("no-new-privileges", "true"?): noNewPrivileges = true
            case ("no-new-privileges", "false"?): noNewPrivileges = false
            case ("seccomp", "unconfined"?):
                seccompUnconfined = true
                seccompProfile = nil
            case ("seccomp", let profile?) where profile.hasPrefix("{"):
                do { _ = try SeccompProfile(json: profile) } catch {
                    throw .invalidSetting(.securityOpt, "the seccomp profile: \(error)")
                }
                seccompProfile = profile
                seccompUnconfined = nil
            case ("systempaths", "unconfined"?): unmaskedPaths = true
            case ("label", "disable"?):
                guard !HostPrivileges.hasSELinux else {
                    throw .invalidSetting(.securityOpt, "\(option): this host runs SELinux, and Caisson applies no SELinux labels to turn off")
                }
            case ("apparmor", "unconfined"?):
                guard !HostPrivileges.hasAppArmor else {
                    throw .invalidSetting(.securityOpt, "\(option): this host runs AppArmor, and Caisson applies no AppArmor profiles to turn off")
                }
            case ("label", _), ("apparmor", _):
                throw .invalidSetting(.securityOpt, "\(option) is not supported: Caisson applies no SELinux labels or AppArmor profiles")
            case ("seccomp", _):
                throw .invalidSetting(.securityOpt, "\(option): expected seccomp=unconfined or seccomp= with a profile's JSON")
            default:
                throw .invalidSetting(.securityOpt, "\"\(option)\" is not supported (no-new-privileges, seccomp=unconfined, seccomp=PROFILE, systempaths=unconfined, label=disable and apparmor=unconfined are)")
            }
        }
    }

    /// The options as docker's inspect lists them.
    public var securityOptions: [String] {
        var options: [String] = []
        if noNewPrivileges { options.append("no-new-privileges") }
        if seccompUnconfined == true { options.append("seccomp=unconfined") }
        if let profile = seccompProfile { options.append("seccomp=" + profile) }
        if unmaskedPaths == true { options.append("systempaths=unconfined") }
        return options
    }
}
