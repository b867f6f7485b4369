extension ContainerConfig {
    /// A restart policy as `caisson run --restart` and the Docker Engine API's
    /// HostConfig.RestartPolicy give it: `no`, `always`, `unless-stopped`, `on-failure[:N]`.
    public static func checkRestartPolicy(_ restart: String, autoRemove: Bool) throws(EngineError) {
        let policy = restart.split(separator: ":", maxSplits: 1)
        guard ["no", "always", "unless-stopped", "on-failure"].contains(String(policy.first ?? "")),
              policy.count == 1 || (policy[0] == "on-failure" && Int(policy[1]).map { $0 >= 0 } == true) else {
            throw .invalid("invalid restart policy \"\(restart)\": no, always, unless-stopped or on-failure[:N]")
        }
        if autoRemove, restart != "no" { throw .invalid("conflicting options: cannot specify both --restart and --rm") }
    }
}
