/// The config.json that `caisson-runtime spec` writes: the same starting point
/// `runc spec` gives, so bundles made for runc look familiar.
public enum DefaultSpec {
    /// `cgroupNamespace`: whether to list a cgroup namespace (the engines' containers have
    /// one; `caisson-runtime spec`, like runc's, lists it only on hosts with cgroup v2 alone).
    public static func make(rootless: Bool, uid: UInt32 = 0, gid: UInt32 = 0, cgroupNamespace: Bool = true) -> Spec {
        let defaultCaps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        var process = Process(
            terminal: true,
            user: User(uid: 0, gid: 0),
            args: ["sh"],
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            cwd: "/",
            capabilities: Capabilities(bounding: defaultCaps, effective: defaultCaps, permitted: defaultCaps,
                                       ambient: defaultCaps),
            rlimits: [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
            noNewPrivileges: true
        )
        process.capabilities?.inheritable = nil

        var mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc"),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                  options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                  options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
                  options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                  options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
        ]

        var linux = Linux()
        linux.maskedPaths = [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        ]
        linux.readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        linux.namespaces = ["pid", "network", "ipc", "uts", "mount"].map { Namespace(type: $0) }
        if cgroupNamespace { linux.namespaces?.append(Namespace(type: "cgroup")) }
        if rootless {
            // As runc's: no network namespace, a user namespace mapping the caller to root,
            // sysfs bound from the host in place, no uid=/gid= mount options, no resources.
            linux.namespaces = (linux.namespaces ?? []).filter { $0.type != "network" } + [Namespace(type: "user")]
            linux.uidMappings = [IDMapping(containerID: 0, hostID: uid, size: 1)]
            linux.gidMappings = [IDMapping(containerID: 0, hostID: gid, size: 1)]
            for index in mounts.indices {
                if mounts[index].destination == "/sys" {
                    mounts[index] = Mount(destination: "/sys", type: "none", source: "/sys",
                                          options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
                }
                mounts[index].options?.removeAll { $0.hasPrefix("gid=") || $0.hasPrefix("uid=") }
            }
        } else {
            var resources = Resources()
            resources.devices = [DeviceCgroupRule(allow: false, access: "rwm")]
            linux.resources = resources
        }

        return Spec(process: process, root: Root(path: "rootfs", readonly: true), hostname: "caisson",
                    mounts: mounts, linux: linux)
    }
}
