/// Checks a decoded config.json for what the runtime needs before it touches the
/// system, so a bad config fails with one clear line and leaves nothing behind.
public enum SpecValidator {
    public static func validate(_ spec: Spec, file: String = "config.json", requireProcess: Bool = true) throws(ConfigError) {
        func fail(_ message: String) -> ConfigError { ConfigError(file: file, message) }

        guard spec.ociVersion.hasPrefix("1.") else {
            throw fail("ociVersion: \"\(spec.ociVersion)\" is not supported (this runtime implements \(Spec.version))")
        }
        guard let root = spec.root, !root.path.isEmpty else { throw fail("root.path: required field is missing") }
        _ = root

        if let process = spec.process {
            try validate(process, file: file)
        } else if requireProcess {
            throw fail("process: required field is missing")
        }

        let namespaces = spec.linux?.namespaces ?? []
        var seen = Set<String>()
        for (index, namespace) in namespaces.enumerated() {
            guard Vocabulary.namespace(named: namespace.type) != nil else {
                throw fail("linux.namespaces[\(index)].type: unknown namespace type \"\(namespace.type)\"")
            }
            guard seen.insert(namespace.type).inserted else {
                throw fail("linux.namespaces[\(index)]: namespace \"\(namespace.type)\" is listed twice")
            }
            if let path = namespace.path, !path.hasPrefix("/") {
                throw fail("linux.namespaces[\(index)].path: \"\(path)\" must be absolute")
            }
        }
        let hasNew = { (type: String) in namespaces.contains { $0.type == type } }
        let userNamespace = namespaces.first { $0.type == "user" }
        let uidMappings = spec.linux?.uidMappings ?? []
        let gidMappings = spec.linux?.gidMappings ?? []
        if userNamespace == nil && (!uidMappings.isEmpty || !gidMappings.isEmpty) {
            throw fail("linux.uidMappings: id mappings are set but there is no user namespace")
        }
        if let userNamespace, userNamespace.path == nil, uidMappings.isEmpty || gidMappings.isEmpty {
            throw fail("linux.uidMappings: a new user namespace needs both uidMappings and gidMappings")
        }
        if let hostname = spec.hostname, !hostname.isEmpty, !hasNew("uts") {
            throw fail("hostname: cannot set the hostname without a private UTS namespace")
        }
        if let domainname = spec.domainname, !domainname.isEmpty, !hasNew("uts") {
            throw fail("domainname: cannot set the domainname without a private UTS namespace")
        }
        if let offsets = spec.linux?.timeOffsets, !offsets.isEmpty {
            guard let time = namespaces.first(where: { $0.type == "time" }), time.path == nil else {
                throw fail("linux.timeOffsets: time offsets need a new time namespace")
            }
            for key in offsets.keys where key != "monotonic" && key != "boottime" {
                throw fail("linux.timeOffsets: unknown clock \"\(key)\" (monotonic or boottime)")
            }
        }
        if let propagation = spec.linux?.rootfsPropagation, !propagation.isEmpty,
           !Vocabulary.rootfsPropagations.contains(propagation) {
            throw fail("linux.rootfsPropagation: unknown propagation \"\(propagation)\"")
        }
        for (index, mount) in (spec.mounts ?? []).enumerated() {
            if mount.destination.isEmpty { throw fail("mounts[\(index)].destination: required field is missing") }
            if mount.uidMappings != nil || mount.gidMappings != nil {
                throw fail("mounts[\(index)]: id-mapped mounts are not supported by caisson-runtime")
            }
        }
        for (index, path) in (spec.linux?.maskedPaths ?? []).enumerated() where !path.hasPrefix("/") {
            throw fail("linux.maskedPaths[\(index)]: \"\(path)\" must be absolute")
        }
        for (index, path) in (spec.linux?.readonlyPaths ?? []).enumerated() where !path.hasPrefix("/") {
            throw fail("linux.readonlyPaths[\(index)]: \"\(path)\" must be absolute")
        }
        for (index, device) in (spec.linux?.devices ?? []).enumerated() {
            guard ["c", "b", "u", "p"].contains(device.type) else {
                throw fail("linux.devices[\(index)].type: unknown device type \"\(device.type)\"")
            }
            guard device.path.hasPrefix("/dev/") || device.path == "/dev" else {
                throw fail("linux.devices[\(index)].path: \"\(device.path)\" must be under /dev")
            }
            if device.type != "p" && (device.major == nil || device.minor == nil) {
                throw fail("linux.devices[\(index)]: major and minor numbers are required")
            }
        }
        for (index, rule) in (spec.linux?.resources?.devices ?? []).enumerated() {
            // runc's rules: the type is a, b or c (unset means a); access must be given, its
            // letters other than r, w and m are ignored.
            guard ["a", "c", "b"].contains(rule.effectiveType) else {
                throw fail("linux.resources.devices[\(index)].type: invalid cgroup device type \"\(rule.type ?? "")\" (use a, b or c)")
            }
            if (rule.access ?? "").isEmpty {
                throw fail("linux.resources.devices[\(index)].access: device access cannot be empty (use r, w and m)")
            }
        }
        if let seccomp = spec.linux?.seccomp { try validate(seccomp, file: file) }
        if spec.linux?.intelRdt != nil {
            throw fail("linux.intelRdt: Intel RDT is not supported by caisson-runtime")
        }
        if let personality = spec.linux?.personality, !["LINUX", "LINUX32"].contains(personality.domain) {
            throw fail("linux.personality.domain: unknown domain \"\(personality.domain)\"")
        }
        for hook in allHooks(spec.hooks) where !hook.path.hasPrefix("/") {
            throw fail("hooks: hook path \"\(hook.path)\" must be absolute")
        }
    }

    public static func validate(_ process: Process, file: String) throws(ConfigError) {
        func fail(_ message: String) -> ConfigError { ConfigError(file: file, message) }
        guard let args = process.args, !args.isEmpty, !args[0].isEmpty else {
            throw fail("process.args: must name the program to run")
        }
        guard process.cwd.hasPrefix("/") else {
            throw fail("process.cwd: \"\(process.cwd)\" must be an absolute path")
        }
        for (index, entry) in (process.env ?? []).enumerated() where !entry.contains("=") || entry.hasPrefix("=") {
            throw fail("process.env[\(index)]: \"\(entry)\" is not of the form KEY=value")
        }
        for (index, limit) in (process.rlimits ?? []).enumerated() {
            guard Vocabulary.rlimits[limit.type] != nil else {
                throw fail("process.rlimits[\(index)].type: unknown rlimit \"\(limit.type)\"")
            }
            if limit.soft > limit.hard {
                throw fail("process.rlimits[\(index)]: soft limit \(limit.soft) is above hard limit \(limit.hard)")
            }
        }
        if let caps = process.capabilities {
            let sets: [(String, [String]?)] = [("bounding", caps.bounding), ("effective", caps.effective),
                                               ("inheritable", caps.inheritable), ("permitted", caps.permitted),
                                               ("ambient", caps.ambient)]
            for (name, list) in sets {
                for cap in list ?? [] where Vocabulary.capabilityNumber(cap) == nil {
                    throw fail("process.capabilities.\(name): unknown capability \"\(cap)\"")
                }
            }
        }
        if let profile = process.apparmorProfile, !profile.isEmpty, profile != "unconfined" {
            throw fail("process.apparmorProfile: AppArmor is not available on this host")
        }
        if let label = process.selinuxLabel, !label.isEmpty {
            throw fail("process.selinuxLabel: SELinux is not available on this host")
        }
    }

    public static func validate(_ seccomp: Seccomp, file: String) throws(ConfigError) {
        func fail(_ message: String) -> ConfigError { ConfigError(file: file, message) }
        guard Vocabulary.seccompActions.contains(seccomp.defaultAction) else {
            throw fail("linux.seccomp.defaultAction: unknown action \"\(seccomp.defaultAction)\"")
        }
        for arch in seccomp.architectures ?? [] where !Vocabulary.seccompArchitectures.contains(arch) {
            throw fail("linux.seccomp.architectures: unknown architecture \"\(arch)\"")
        }
        for flag in seccomp.flags ?? [] where !Vocabulary.seccompFlags.contains(flag) {
            throw fail("linux.seccomp.flags: unknown flag \"\(flag)\"")
        }
        for (index, rule) in (seccomp.syscalls ?? []).enumerated() {
            guard Vocabulary.seccompActions.contains(rule.action) else {
                throw fail("linux.seccomp.syscalls[\(index)].action: unknown action \"\(rule.action)\"")
            }
            for arg in rule.args ?? [] where !Vocabulary.seccompOperators.contains(arg.op) {
                throw fail("linux.seccomp.syscalls[\(index)].args: unknown operator \"\(arg.op)\"")
            }
            for arg in rule.args ?? [] where arg.index > 5 {
                throw fail("linux.seccomp.syscalls[\(index)].args: argument index \(arg.index) is above 5")
            }
            // The runtime hands the listener over with write(2): notifying on it would
            // deadlock the agent (runc refuses it too).
            if rule.action == "SCMP_ACT_NOTIFY" && rule.names.contains("write") {
                throw fail("linux.seccomp.syscalls[\(index)]: SCMP_ACT_NOTIFY cannot be used for the write syscall")
            }
        }
        let notifies = seccomp.defaultAction == "SCMP_ACT_NOTIFY" || (seccomp.syscalls ?? []).contains { $0.action == "SCMP_ACT_NOTIFY" }
        if notifies && (seccomp.listenerPath ?? "").isEmpty {
            throw fail("linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a listenerPath")
        }
        if seccomp.defaultAction == "SCMP_ACT_NOTIFY" {
            throw fail("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action")
        }
    }

    public static func allHooks(_ hooks: Hooks?) -> [Hook] {
        guard let hooks else { return [] }
        return (hooks.prestart ?? []) + (hooks.createRuntime ?? []) + (hooks.createContainer ?? [])
            + (hooks.startContainer ?? []) + (hooks.poststart ?? []) + (hooks.poststop ?? [])
    }
}
