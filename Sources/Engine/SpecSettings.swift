#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Images
import OCISpec

/// The parts of config.json docker's host settings decide, apart from `writeConfig`'s
/// main line: namespace modes (the host's, or another container's PID namespace), the
/// cgroup resources, and the process's limits, groups, devices, sysctls, /dev/shm size
/// and oom_score_adj.
extension SpecBuilder {
    func applyNamespaceModes(_ config: ContainerConfig, spec: inout Spec, linux: inout Linux, mounts: inout [Mount]) throws {
        var namespaces = linux.namespaces ?? []
        if config.pidMode == "host" {
            namespaces.removeAll { $0.type == "pid" }
        } else if let mode = config.pidMode, mode.hasPrefix("container:"),
                  let pid = try? engine.namespaceHolder(String(mode.dropFirst(10)), setting: .pid) {
            // Written again at each start (`beginStart`), when the other container must run.
            namespaces.removeAll { $0.type == "pid" }
            namespaces.append(Namespace(type: "pid", path: "/proc/\(pid)/ns/pid"))
        }
        if config.ipcMode == "host" {
            // The mqueue mount made in the host's IPC namespace is the host's queues.
            namespaces.removeAll { $0.type == "ipc" }
            mounts.removeAll { $0.destination == "/dev/shm" }
            mounts.append(Mount(destination: "/dev/shm", type: "bind", source: "/dev/shm", options: ["rbind", "rprivate"]))
        } else if config.ipcMode == "none" {
            mounts.removeAll { $0.destination == "/dev/shm" }
        }
        if config.utsMode == "host" {
            namespaces.removeAll { $0.type == "uts" }
            spec.hostname = nil
        }
        linux.namespaces = namespaces
        if let size = config.shmSize, let index = mounts.firstIndex(where: { $0.destination == "/dev/shm" && $0.type == "tmpfs" }) {
            mounts[index].options = (mounts[index].options ?? []).filter { !$0.hasPrefix("size=") } + ["size=\(size)"]
        }
    }

    /// Memory, CPU and process limits into the cgroup resources.
    static func applyResources(_ config: ContainerConfig, to resources: inout Resources) {
        if config.memory != nil || config.memorySwap != nil || config.memoryReservation != nil || config.memorySwappiness != nil
            || config.oomKillDisable == true {
            var memory = resources.memory ?? Resources.Memory()
            memory.limit = config.memory ?? memory.limit
            if let swap = config.memorySwap, swap != 0 { memory.swap = swap }
            memory.reservation = config.memoryReservation ?? memory.reservation
            if let swappiness = config.memorySwappiness { memory.swappiness = UInt64(swappiness) }
            if config.oomKillDisable == true { memory.disableOOMKiller = true }
            resources.memory = memory
        }
        var cpu = resources.cpu ?? Resources.CPU()
        if let cpus = config.cpus {
            cpu.period = 100_000
            cpu.quota = Int64(cpus * 100_000)
        }
        if let period = config.cpuPeriod, period != 0 { cpu.period = UInt64(period) }
        if let quota = config.cpuQuota, quota != 0 { cpu.quota = quota }
        if let shares = config.cpuShares, shares != 0 { cpu.shares = UInt64(max(shares, 2)) }
        if let cpus = config.cpusetCpus, !cpus.isEmpty { cpu.cpus = cpus }
        if let mems = config.cpusetMems, !mems.isEmpty { cpu.mems = mems }
        if cpu != Resources.CPU() { resources.cpu = cpu }
        if let pids = config.pidsLimit { resources.pids = Resources.Pids(limit: pids) }
    }

    func applyProcessSettings(_ config: ContainerConfig, rootfs: String, process: inout Process, linux: inout Linux,
                              resources: inout Resources, mounts: inout [Mount]) throws {
        process.rlimits = config.ulimits.map { limits in
            limits.map { Rlimit(type: "RLIMIT_" + Text.asciiUppercased($0.name), hard: $0.hard < 0 ? UInt64.max : UInt64($0.hard),
                                soft: $0.soft < 0 ? UInt64.max : UInt64($0.soft)) }
        }
        if let groups = config.groupAdd, !groups.isEmpty {
            var gids = process.user.additionalGids ?? []
            let resolver = UserResolver(rootfs: rootfs)
            for group in groups {
                let gid: UInt32
                do { gid = try resolver.resolveGroup(group) } catch {
                    throw EngineError.invalidSetting(.groupAdd, "\(error)")
                }
                if !gids.contains(gid) { gids.append(gid) }
            }
            process.user.additionalGids = gids
        }
        if let score = config.oomScoreAdj { process.oomScoreAdj = score }
        if let sysctls = config.sysctls, !sysctls.isEmpty {
            linux.sysctl = (linux.sysctl ?? [:]).merging(sysctls) { $1 }
        }
        for device in config.devices ?? [] {
            let node = try ContainerEngine.deviceNode(device)
            var devices = linux.devices ?? []
            devices.removeAll { $0.path == device.pathInContainer }
            devices.append(Device(type: node.type, path: device.pathInContainer, major: node.major, minor: node.minor,
                                  fileMode: node.mode, uid: 0, gid: 0))
            linux.devices = devices
            resources.devices = (resources.devices ?? []) + [
                DeviceCgroupRule(allow: true, type: node.type, major: node.major, minor: node.minor, access: device.permissions),
            ]
        }
    }
}

extension ContainerEngine {
    /// The init process of a running container whose namespace another joins
    /// (`--pid container:NAME`); an error naming the setting when it does not run.
    func namespaceHolder(_ name: String, setting: ContainerSetting) throws(EngineError) -> Int32 {
        let target: ContainerRecord
        do { target = try find(name) } catch { throw .invalidSetting(setting, "container:\(name): \(error)") }
        guard let pid = state(of: target).pid, state(of: target).isRunning else {
            throw .invalidSetting(setting, "container:\(name): the container is not running, so it has no namespace to join")
        }
        return pid
    }
}
