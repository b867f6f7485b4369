#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Cgroups
import CRIProto
import Synchronization

/// ContainerStats and PodSandboxStats: CPU and memory from the container's cgroup (v1,
/// v2 or hybrid, whichever carries each controller), the writable layer's usage, and
/// the pod's process count.
extension PodManager {
    public func containerStats(_ id: String) throws(CRIError) -> Runtime_V1_ContainerStats {
        let (record, config) = try store.container(id)
        return stats(record, config)
    }

    public func listContainerStats(_ filter: Runtime_V1_ContainerStatsFilter?) -> [Runtime_V1_ContainerStats] {
        store.containers().filter { record, config in
            guard let filter else { return true }
            if !filter.id.isEmpty, !record.id.hasPrefix(filter.id) { return false }
            if !filter.podSandboxID.isEmpty, !record.sandboxID.hasPrefix(filter.podSandboxID) { return false }
            return filter.labelSelector.allSatisfy { config.labels[$0.key] == $0.value }
        }.map { stats($0.record, $0.config) }
    }

    private func stats(_ record: PodContainerRecord, _ config: Runtime_V1_ContainerConfig) -> Runtime_V1_ContainerStats {
        var result = Runtime_V1_ContainerStats()
        result.attributes.id = record.id
        result.attributes.metadata = config.metadata
        result.attributes.labels = config.labels
        result.attributes.annotations = config.annotations
        let now = Timestamps.now()
        let running = store.state(ofDirectory: store.containerDirectory(record.id)).status == .running
        if running, let (cpu, memory, _) = cgroupUsage(record.cgroupsPath, id: record.id, at: now) {
            result.cpu = cpu
            result.cpu.usageNanoCores.value = cpuSamples.nanoCores(record.id, usage: cpu.usageCoreNanoSeconds.value, at: now)
            result.memory = memory
        } else {
            result.cpu.timestamp = now
            result.cpu.usageCoreNanoSeconds.value = 0
            result.cpu.usageNanoCores.value = 0
            result.memory.timestamp = now
            result.memory.workingSetBytes.value = 0
            result.memory.availableBytes.value = 0
        }
        result.writableLayer.timestamp = now
        result.writableLayer.fsID.mountpoint = options.root
        let upper = options.root + "/rootfs/cri-" + record.id + "/upper"
        let (bytes, inodes) = PodManager.diskUsage(upper)
        result.writableLayer.usedBytes.value = bytes
        result.writableLayer.inodesUsed.value = inodes
        return result
    }

    private func cgroupUsage(_ path: String, id: String, at now: Int64)
        -> (Runtime_V1_CpuUsage, Runtime_V1_MemoryUsage, processes: UInt64)? {
        guard let layout = cgroupLayout, let cgroup = try? Cgroup(layout: layout, cgroupsPath: path, containerID: id),
              cgroup.exists else { return nil }
        let stats = cgroup.stats()
        var cpu = Runtime_V1_CpuUsage()
        cpu.timestamp = now
        cpu.usageCoreNanoSeconds.value = stats.cpu.usage.total
        var memory = Runtime_V1_MemoryUsage()
        memory.timestamp = now
        let usage = stats.memory.usage.usage ?? 0
        let raw = stats.memory.raw ?? [:]
        // The kubelet's working set: usage less inactive file pages.
        let inactive = raw["total_inactive_file"] ?? raw["inactive_file"] ?? 0
        memory.workingSetBytes.value = usage > inactive ? usage - inactive : 0
        memory.usageBytes.value = usage
        memory.rssBytes.value = raw["total_rss"] ?? raw["anon"] ?? 0
        memory.pageFaults.value = raw["total_pgfault"] ?? raw["pgfault"] ?? 0
        memory.majorPageFaults.value = raw["total_pgmajfault"] ?? raw["pgmajfault"] ?? 0
        // As containerd: the limit less the working set, 0 without a limit.
        memory.availableBytes.value = 0
        if let limit = stats.memory.usage.limit, limit < UInt64(Int64.max) / 2 {
            memory.availableBytes.value = limit > memory.workingSetBytes.value ? limit - memory.workingSetBytes.value : 0
        }
        return (cpu, memory, stats.pids.current ?? 0)
    }

    public func podSandboxStats(_ id: String) throws(CRIError) -> Runtime_V1_PodSandboxStats {
        let (record, config) = try store.sandbox(id)
        return sandboxStats(record, config)
    }

    public func listPodSandboxStats(_ filter: Runtime_V1_PodSandboxStatsFilter?) -> [Runtime_V1_PodSandboxStats] {
        store.sandboxes().filter { record, config in
            guard let filter else { return true }
            if !filter.id.isEmpty, !record.id.hasPrefix(filter.id) { return false }
            return filter.labelSelector.allSatisfy { config.labels[$0.key] == $0.value }
        }.map { sandboxStats($0.record, $0.config) }
    }

    private func sandboxStats(_ record: SandboxRecord, _ config: Runtime_V1_PodSandboxConfig) -> Runtime_V1_PodSandboxStats {
        var result = Runtime_V1_PodSandboxStats()
        result.attributes.id = record.id
        result.attributes.metadata = config.metadata
        result.attributes.labels = config.labels
        result.attributes.annotations = config.annotations
        let now = Timestamps.now()
        var cpuTotal: UInt64 = 0
        var memoryTotal: UInt64 = 0
        var processes: UInt64 = 0
        var containers: [Runtime_V1_ContainerStats] = []
        for container in store.containers(inSandbox: record.id) {
            guard let config = try? store.container(container.id).config else { continue }
            let stats = stats(container, config)
            cpuTotal += stats.cpu.usageCoreNanoSeconds.value
            memoryTotal += stats.memory.workingSetBytes.value
            containers.append(stats)
            if let usage = cgroupUsage(container.cgroupsPath, id: container.id, at: now) { processes += usage.processes }
        }
        if let usage = cgroupUsage(cgroupsPath(parent: record.cgroupParent, id: record.id), id: record.id, at: now) {
            cpuTotal += usage.0.usageCoreNanoSeconds.value
            memoryTotal += usage.1.workingSetBytes.value
            processes += usage.processes
        }
        result.linux.cpu.timestamp = now
        result.linux.cpu.usageCoreNanoSeconds.value = cpuTotal
        result.linux.cpu.usageNanoCores.value = cpuSamples.nanoCores("pod-" + record.id, usage: cpuTotal, at: now)
        result.linux.memory.timestamp = now
        result.linux.memory.workingSetBytes.value = memoryTotal
        result.linux.process.timestamp = now
        result.linux.process.processCount.value = processes
        result.linux.containers = containers
        result.linux.network.timestamp = now
        if let pid = pausePID(record), let text = try? Files.readString("/proc/\(pid)/net/dev") {
            for line in text.split(separator: "\n").dropFirst(2) {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let name = parts[0].trimmingSpaces()
                guard name != "lo" else { continue }
                let numbers = parts[1].split(separator: " ").compactMap { UInt64($0) }
                guard numbers.count >= 16 else { continue }
                var interface = Runtime_V1_NetworkInterfaceUsage()
                interface.name = name
                interface.rxBytes.value = numbers[0]
                interface.rxErrors.value = numbers[2]
                interface.txBytes.value = numbers[8]
                interface.txErrors.value = numbers[10]
                result.linux.network.interfaces.append(interface)
                if name == "eth0" { result.linux.network.defaultInterface = interface }
            }
        }
        return result
    }

    /// Bytes and inodes under a directory (not following symbolic links, one file system).
    static func diskUsage(_ path: String) -> (UInt64, UInt64) {
        var bytes: UInt64 = 0
        var inodes: UInt64 = 0
        func walk(_ directory: String, depth: Int) {
            guard depth < 64, let names = try? Files.listDirectory(directory) else { return }
            for name in names {
                let child = directory + "/" + name
                guard let info = try? Files.lstatIfExists(child) else { continue }
                inodes += 1
                bytes += UInt64(max(0, info.st_size))
                if info.st_mode & S_IFMT == S_IFDIR { walk(child, depth: depth + 1) }
            }
        }
        walk(path, depth: 0)
        return (bytes, inodes)
    }
}

/// The previous CPU reading of each container and pod, from which a stats call derives
/// `usage_nano_cores` (CPU time per second of wall time since the last call), as
/// containerd does. The first call for a container reports 0.
final class CPUSamples: Sendable {
    private let samples = Mutex<[String: (usage: UInt64, at: Int64)]>([:])

    func nanoCores(_ key: String, usage: UInt64, at now: Int64) -> UInt64 {
        samples.withLock { samples in
            defer { samples[key] = (usage, now) }
            guard let previous = samples[key], now > previous.at, usage >= previous.usage else { return 0 }
            let cores = Double(usage - previous.usage) / Double(now - previous.at) * 1e9
            return UInt64(cores.rounded())
        }
    }

    func forget(_ key: String) { _ = samples.withLock { $0.removeValue(forKey: key) } }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
