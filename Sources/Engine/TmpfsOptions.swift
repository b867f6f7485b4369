/// The mount options of a container's tmpfs (`--tmpfs`, `--mount type=tmpfs`,
/// `HostConfig.Tmpfs`), as dockerd makes them: its defaults `noexec,nosuid,nodev` with the
/// user's options over them (a later flag replaces its opposite, a later `size=` or
/// `mode=` the earlier one), and no size unless one is given (the kernel's, half of RAM).
enum TmpfsOptions {
    static let defaults = ["rw", "noexec", "nosuid", "nodev"]

    /// Flags and their opposites.
    private static let opposites: [String: String] = [
        "rw": "ro", "ro": "rw", "exec": "noexec", "noexec": "exec", "suid": "nosuid", "nosuid": "suid",
        "dev": "nodev", "nodev": "dev", "atime": "noatime", "noatime": "atime", "diratime": "nodiratime",
        "nodiratime": "diratime", "sync": "async", "async": "sync", "relatime": "norelatime", "norelatime": "relatime",
        "strictatime": "nostrictatime", "nostrictatime": "strictatime",
    ]

    static func merged(_ given: [String]) -> [String] {
        var options = defaults
        for option in given {
            if let equals = option.firstIndex(of: "=") {
                let key = option[...equals]
                options.removeAll { $0.hasPrefix(key) }
            } else {
                options.removeAll { $0 == option || $0 == opposites[option] }
            }
            options.append(option)
        }
        return options
    }
}
