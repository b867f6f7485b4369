/// The runtime-spec "features" document (`caisson-runtime features`): what this
/// runtime implements, so engines can decide what to ask of it.
public struct Features: Codable, Sendable {
    public var ociVersionMin: String
    public var ociVersionMax: String
    public var hooks: [String]
    public var mountOptions: [String]
    public var linux: LinuxFeatures
    public var annotations: [String: String]

    public struct LinuxFeatures: Codable, Sendable {
        public var namespaces: [String]
        public var capabilities: [String]
        public var cgroup: CgroupFeatures
        public var seccomp: SeccompFeatures
        public var apparmor: Enabled
        public var selinux: Enabled
        public var intelRdt: Enabled
        public var mountExtensions: MountExtensions
    }

    public struct CgroupFeatures: Codable, Sendable {
        public var v1: Bool
        public var v2: Bool
        public var systemd: Bool
        public var systemdUser: Bool
        public var rdma: Bool
    }

    public struct SeccompFeatures: Codable, Sendable {
        public var enabled: Bool
        public var actions: [String]
        public var operators: [String]
        public var archs: [String]
        public var knownFlags: [String]
        public var supportedFlags: [String]
    }

    public struct Enabled: Codable, Sendable {
        public var enabled: Bool
    }

    public struct MountExtensions: Codable, Sendable {
        public var idmap: Enabled
    }

    public static func current(runtimeVersion: String, seccompVersion: String) -> Features {
        Features(
            ociVersionMin: "1.0.0",
            ociVersionMax: Spec.version,
            hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            mountOptions: Vocabulary.mountOptions,
            linux: LinuxFeatures(
                namespaces: ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
                capabilities: Vocabulary.capabilities,
                cgroup: CgroupFeatures(v1: true, v2: true, systemd: false, systemdUser: false, rdma: false),
                seccomp: SeccompFeatures(
                    enabled: true,
                    actions: Vocabulary.seccompActions.sorted(),
                    operators: Vocabulary.seccompOperators.sorted(),
                    archs: Vocabulary.seccompArchitectures,
                    knownFlags: Vocabulary.seccompFlags.sorted(),
                    supportedFlags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]
                ),
                apparmor: Enabled(enabled: false),
                selinux: Enabled(enabled: false),
                intelRdt: Enabled(enabled: false),
                mountExtensions: MountExtensions(idmap: Enabled(enabled: false))
            ),
            annotations: [
                "io.github.caisson.runtime.version": runtimeVersion,
                "io.github.seccomp.libseccomp.version": seccompVersion,
            ]
        )
    }
}
