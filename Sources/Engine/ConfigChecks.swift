#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// A new container's settings checked before anything is made for it, once for every
/// front end, each failure naming the setting (`EngineError.invalidSetting`): DNS and
/// --add-host addresses, sysctls (only those of the container's own namespaces, as
/// docker allows, and only ones this kernel has), ulimits (not above what this process
/// may grant), /dev/shm, devices (character or block devices on the host), namespace
/// modes, log rotation, network aliases, capabilities (ones this engine knows), the stop
/// signal, and the resources (`ResourceChecks`).
extension ContainerEngine {
    static let ipcSysctls = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                             "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]

    func check(_ config: ContainerConfig) throws(EngineError) {
        for server in config.dns ?? [] where !ContainerEngine.isIPAddress(server) {
            throw .invalidSetting(.dns, "\(server) is not an IP address")
        }
        for domain in config.dnsSearch ?? [] where domain.isEmpty || domain.contains(where: { $0 == " " || $0 == "\t" }) {
            throw .invalidSetting(.dnsSearch, "\"\(domain)\" is not a domain name")
        }
        for option in config.dnsOptions ?? [] where option.isEmpty || option.contains(where: { $0 == " " || $0 == "\t" }) {
            throw .invalidSetting(.dnsOption, "\"\(option)\" is not a resolver option")
        }
        for entry in config.extraHosts ?? [] {
            guard let (_, address) = HostsFile.parseExtraHost(entry) else {
                throw .invalidSetting(.addHost, "\"\(entry)\" is not NAME:ADDRESS with an IP address or host-gateway")
            }
            if address == "host-gateway", config.network == "host" || config.network == "none" {
                throw .invalidSetting(.addHost, "\(entry): host-gateway stands for the gateway of a bridge network, and this container is on network \(config.network)")
            }
        }
        try checkSysctls(config)
        try checkUlimits(config.ulimits ?? [])
        if let size = config.shmSize, size <= 0 { throw .invalidSetting(.shmSize, "\(size) is not a positive size") }
        for device in config.devices ?? [] { _ = try ContainerEngine.deviceNode(device) }
        try checkNamespaceModes(config)
        if let rotation = config.logRotation {
            guard rotation.maxSize > 0 else { throw .invalidSetting(.logOpt, "max-size must be a positive size") }
            guard rotation.maxFiles >= 1 else { throw .invalidSetting(.logOpt, "max-file must be at least 1") }
        }
        if let aliases = config.networkAliases, !aliases.isEmpty {
            guard config.network != "host", config.network != "none" else {
                throw .invalidSetting(.networkAlias, "network aliases need a bridge network; this container is on network \(config.network)")
            }
            for alias in aliases where alias.isEmpty || !alias.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) {
                throw .invalidSetting(.networkAlias, "\"\(alias)\" is not a host name")
            }
        }
        for (setting, names) in [(ContainerSetting.capAdd, config.capAdd), (.capDrop, config.capDrop)] {
            for name in names where !SpecBuilder.allCapabilities.contains(SpecBuilder.capabilityName(name))
                && SpecBuilder.capabilityName(name) != "ALL" {
                throw .invalidSetting(setting, "unknown capability: \"\(SpecBuilder.capabilityName(name))\"")
            }
        }
        if let domain = config.domainname, !domain.isEmpty {
            guard domain.utf8.count <= 64, domain.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
                throw .invalidSetting(.domainname, "\"\(domain)\" is not a domain name of at most 64 letters, digits, - and .")
            }
            guard config.utsMode != "host" else { throw .invalidSetting(.domainname, "a domain name needs the container's own UTS namespace") }
        }
        if let signal = config.stopSignal, !signal.isEmpty, (try? Signals.parse(signal)) == nil {
            throw .invalidSetting(.stopSignal, "invalid signal: \(signal)")
        }
        try ResourceChecks.check(config)
    }

    func checkSysctls(_ config: ContainerConfig) throws(EngineError) {
        for (key, value) in (config.sysctls ?? [:]).sorted(by: { $0.key < $1.key }) {
            let ipc = ContainerEngine.ipcSysctls.contains(key) || key.hasPrefix("fs.mqueue.")
            let net = key.hasPrefix("net.")
            guard ipc || net else {
                throw .invalidSetting(.sysctl, "\(key) is not in a namespace of the container's own (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and net.* are)")
            }
            if net, config.network == "host" {
                throw .invalidSetting(.sysctl, "\(key) cannot be set with the host's network namespace (--network host)")
            }
            if ipc, config.ipcMode == "host" {
                throw .invalidSetting(.sysctl, "\(key) cannot be set with the host's IPC namespace (--ipc host)")
            }
            guard !value.isEmpty, !value.contains("\n") else { throw .invalidSetting(.sysctl, "\(key) needs a one-line value") }
            let path = "/proc/sys/" + key.split(separator: ".").joined(separator: "/")
            guard !key.contains("/"), !key.contains(".."), Files.exists(path) else {
                throw .invalidSetting(.sysctl, "\(key) does not exist in this kernel")
            }
        }
    }

    func checkUlimits(_ ulimits: [Ulimit]) throws(EngineError) {
        var seen = Set<String>()
        for limit in ulimits {
            guard let resource = HostPrivileges.rlimits[limit.name] else {
                throw .invalidSetting(.ulimit, "unknown limit \"\(limit.name)\" (\(HostPrivileges.rlimits.keys.sorted().joined(separator: ", ")))")
            }
            guard seen.insert(limit.name).inserted else { throw .invalidSetting(.ulimit, "\(limit.name) is given twice") }
            let soft = limit.soft < 0 ? UInt64.max : UInt64(limit.soft)
            let hard = limit.hard < 0 ? UInt64.max : UInt64(limit.hard)
            guard limit.soft >= -1, limit.hard >= -1, soft <= hard else {
                throw .invalidSetting(.ulimit, "\(limit.name): the soft limit \(limit.soft) must not be above the hard limit \(limit.hard)")
            }
            if !HostPrivileges.canRaiseLimits, let own = HostPrivileges.hardLimit(resource), hard > own {
                throw .invalidSetting(.ulimit, "\(limit.name): the hard limit \(limit.hard < 0 ? "unlimited" : String(limit.hard)) is above this process's own hard limit \(own), and raising it needs CAP_SYS_RESOURCE, which it does not hold")
            }
        }
    }

    func checkNamespaceModes(_ config: ContainerConfig) throws(EngineError) {
        if let mode = config.pidMode, !mode.isEmpty, mode != "host", mode != "private" {
            guard mode.hasPrefix("container:"), mode.count > 10 else {
                throw .invalidSetting(.pid, "\"\(mode)\" is not a PID mode (host or container:NAME)")
            }
            do { _ = try find(String(mode.dropFirst(10))) } catch { throw .invalidSetting(.pid, "\(mode): \(error)") }
        }
        if let mode = config.ipcMode, !mode.isEmpty, !["host", "private", "shareable", "none"].contains(mode) {
            if mode.hasPrefix("container:") {
                throw .invalidSetting(.ipc, "\(mode): sharing another container's IPC namespace and /dev/shm is not supported (host, private, shareable and none are)")
            }
            throw .invalidSetting(.ipc, "\"\(mode)\" is not an IPC mode (host, private, shareable or none)")
        }
        if let mode = config.utsMode, !mode.isEmpty, mode != "host" {
            throw .invalidSetting(.uts, "\"\(mode)\" is not a UTS mode (host)")
        }
        if config.utsMode == "host", let hostname = config.hostname, !hostname.isEmpty {
            throw .invalidSetting(.uts, "a host name cannot be given with the host's UTS namespace (--uts host)")
        }
    }

    /// The host device a mapping names: its type (c or b), numbers and mode; an error
    /// naming the device when it is missing or not a device.
    static func deviceNode(_ device: DeviceMapping) throws(EngineError) -> (type: String, major: Int64, minor: Int64, mode: UInt32) {
        guard device.pathOnHost.hasPrefix("/"), device.pathInContainer.hasPrefix("/") else {
            throw .invalidSetting(.device, "\(device.pathOnHost):\(device.pathInContainer): both paths must be absolute")
        }
        guard !device.permissions.isEmpty, device.permissions.allSatisfy({ "rwm".contains($0) }) else {
            throw .invalidSetting(.device, "\(device.pathOnHost): invalid permissions \"\(device.permissions)\" (any of r, w and m)")
        }
        var info = stat()
        guard stat(device.pathOnHost, &info) == 0 else {
            throw .invalidSetting(.device, "\(device.pathOnHost): \(String(cString: strerror(errno)))")
        }
        let type: String
        switch info.st_mode & S_IFMT {
        case S_IFCHR: type = "c"
        case S_IFBLK: type = "b"
        default: throw .invalidSetting(.device, "\(device.pathOnHost) is not a character or block device")
        }
        let number = UInt64(info.st_rdev)
        let major = Int64(((number >> 32) & 0xffff_f000) | ((number >> 8) & 0xfff))
        let minor = Int64(((number >> 12) & 0xffff_ff00) | (number & 0xff))
        return (type, major, minor, UInt32(info.st_mode & 0o7777))
    }
}
