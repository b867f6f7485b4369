#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import OCISpec

/// Writes linux.resources into the cgroup files of the right hierarchy, in the units
/// and file names of that hierarchy's version.
extension Cgroup {
    /// Device nodes every container may use, whatever the config's device rules say
    /// (as runc grants them): null, zero, full, random, urandom, tty, console, ptmx, pts.
    public static let defaultAllowedDevices: [DeviceCgroupRule] = [
        DeviceCgroupRule(allow: true, type: "c", major: nil, minor: nil, access: "m"),
        DeviceCgroupRule(allow: true, type: "b", major: nil, minor: nil, access: "m"),
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 5, minor: 1, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 136, minor: nil, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 10, minor: 200, access: "rwm"),
    ]

    /// Applies limits. `devices` are applied only at creation (`includeDevices`), since
    /// an update must not reset device access of a running container.
    public func apply(_ resources: Resources, includeDevices: Bool = true, warn: (String) -> Void = { _ in }) throws(CgroupError) {
        try validateUnified(resources.unified)
        do {
            if let memory = resources.memory { try applyMemory(memory, warn: warn) }
            if let cpu = resources.cpu { try applyCPU(cpu) }
            if let pids = resources.pids { try applyPids(pids) }
            if let blockIO = resources.blockIO { try applyBlockIO(blockIO, warn: warn) }
            if let limits = resources.hugepageLimits, !limits.isEmpty { try applyHugepages(limits) }
            if let network = resources.network { try applyNetwork(network) }
            if let rdma = resources.rdma, !rdma.isEmpty {
                throw CgroupError.unsupported("linux.resources.rdma: the rdma controller is not supported")
            }
            if let unified = resources.unified, !unified.isEmpty { try applyUnified(unified) }
            if includeDevices { try applyDevices(resources.devices ?? [], warn: warn) }
        } catch let error as SysError {
            throw .system(error)
        } catch let error as CgroupError {
            throw error
        } catch {
            throw .unsupported("\(error)")
        }
    }

    private func controllerDirectory(_ controller: String, for field: String) throws(CgroupError) -> (Hierarchy.Version, String) {
        guard let hierarchy = layout.hierarchy(for: controller), let directory = directory(for: controller) else {
            throw .unsupported("\(field) is set, but the \(controller) controller is not available on this host")
        }
        return (hierarchy.version, directory)
    }

    private func write(_ directory: String, _ file: String, _ value: String) throws(SysError) {
        try Files.writeKernelFile(directory + "/" + file, value)
    }

    private func applyMemory(_ memory: Resources.Memory, warn: (String) -> Void) throws {
        guard memory.limit != nil || memory.reservation != nil || memory.swap != nil || memory.swappiness != nil
                || memory.disableOOMKiller == true || memory.kernelTCP != nil || memory.kernel != nil else { return }
        let (version, dir) = try controllerDirectory("memory", for: "linux.resources.memory")
        func text(_ value: Int64) -> String { value < 0 ? (version == .v1 ? "-1" : "max") : String(value) }
        if version == .v1 {
            if let limit = memory.limit {
                if let swap = memory.swap, Files.exists(dir + "/memory.memsw.limit_in_bytes") {
                    // memsw must stay >= limit: order the two writes so that holds at each step.
                    do {
                        try write(dir, "memory.limit_in_bytes", text(limit))
                        try write(dir, "memory.memsw.limit_in_bytes", text(swap))
                    } catch {
                        try write(dir, "memory.memsw.limit_in_bytes", text(swap))
                        try write(dir, "memory.limit_in_bytes", text(limit))
                    }
                } else {
                    try write(dir, "memory.limit_in_bytes", text(limit))
                }
            } else if let swap = memory.swap {
                try write(dir, "memory.memsw.limit_in_bytes", text(swap))
            }
            if memory.swap != nil && !Files.exists(dir + "/memory.memsw.limit_in_bytes") {
                warn("memory.swap is ignored: swap accounting is disabled on this host")
            }
            if let reservation = memory.reservation { try write(dir, "memory.soft_limit_in_bytes", text(reservation)) }
            if let kernelTCP = memory.kernelTCP { try write(dir, "memory.kmem.tcp.limit_in_bytes", text(kernelTCP)) }
            if let kernel = memory.kernel {
                // Deprecated by the kernel; newer kernels refuse it, which is only worth a warning.
                do {
                    try write(dir, "memory.kmem.limit_in_bytes", text(kernel))
                } catch {
                    warn("memory.kernel is not applied: \(error)")
                }
            }
            if let swappiness = memory.swappiness {
                guard swappiness <= 100 else {
                    throw CgroupError.unsupported("linux.resources.memory.swappiness: \(swappiness) is above 100")
                }
                try write(dir, "memory.swappiness", String(swappiness))
            }
            if memory.disableOOMKiller == true { try write(dir, "memory.oom_control", "1") }
        } else {
            if let limit = memory.limit { try write(dir, "memory.max", text(limit)) }
            if let reservation = memory.reservation { try write(dir, "memory.low", text(reservation)) }
            if let swap = memory.swap {
                // OCI swap is memory+swap; cgroup v2 limits swap alone.
                let value: String
                if swap < 0 { value = "max" }
                else if let limit = memory.limit, limit > 0 { value = String(max(0, swap - limit)) }
                else { value = String(swap) }
                if Files.exists(dir + "/memory.swap.max") { try write(dir, "memory.swap.max", value) }
                else { warn("memory.swap is ignored: swap accounting is disabled on this host") }
            }
            if memory.disableOOMKiller == true {
                throw CgroupError.unsupported("linux.resources.memory.disableOOMKiller is not available on cgroup v2")
            }
        }
    }

    private func applyCPU(_ cpu: Resources.CPU) throws {
        if cpu.shares != nil || cpu.quota != nil || cpu.period != nil || cpu.realtimeRuntime != nil
            || cpu.realtimePeriod != nil || cpu.burst != nil || cpu.idle != nil {
            let (version, dir) = try controllerDirectory("cpu", for: "linux.resources.cpu")
            if version == .v1 {
                if let shares = cpu.shares, shares > 0 { try write(dir, "cpu.shares", String(shares)) }
                if let period = cpu.period, period > 0 { try write(dir, "cpu.cfs_period_us", String(period)) }
                if let quota = cpu.quota, quota != 0 { try write(dir, "cpu.cfs_quota_us", String(quota)) }
                if let burst = cpu.burst { try write(dir, "cpu.cfs_burst_us", String(burst)) }
                if let period = cpu.realtimePeriod, period > 0 { try write(dir, "cpu.rt_period_us", String(period)) }
                if let runtime = cpu.realtimeRuntime, runtime != 0 { try write(dir, "cpu.rt_runtime_us", String(runtime)) }
                if let idle = cpu.idle { try write(dir, "cpu.idle", String(idle)) }
            } else {
                if let shares = cpu.shares, shares > 0 {
                    // The conversion runc and crun use: [2, 262144] -> [1, 10000].
                    let weight = 1 + ((min(max(shares, 2), 262_144) - 2) * 9999) / 262_142
                    try write(dir, "cpu.weight", String(weight))
                }
                if cpu.quota != nil || cpu.period != nil {
                    let quota = cpu.quota.map { $0 > 0 ? String($0) : "max" } ?? "max"
                    let period = cpu.period.flatMap { $0 > 0 ? String($0) : nil } ?? "100000"
                    try write(dir, "cpu.max", "\(quota) \(period)")
                }
                if let burst = cpu.burst { try write(dir, "cpu.max.burst", String(burst)) }
                if let idle = cpu.idle { try write(dir, "cpu.idle", String(idle)) }
                if cpu.realtimeRuntime != nil || cpu.realtimePeriod != nil {
                    throw CgroupError.unsupported("linux.resources.cpu.realtime*: real-time limits are not available on cgroup v2")
                }
            }
        }
        if cpu.cpus != nil || cpu.mems != nil {
            let (_, dir) = try controllerDirectory("cpuset", for: "linux.resources.cpu.cpus")
            if let cpus = cpu.cpus, !cpus.isEmpty { try write(dir, "cpuset.cpus", cpus) }
            if let mems = cpu.mems, !mems.isEmpty { try write(dir, "cpuset.mems", mems) }
        }
    }

    private func applyPids(_ pids: Resources.Pids) throws {
        let (_, dir) = try controllerDirectory("pids", for: "linux.resources.pids")
        try write(dir, "pids.max", pids.limit > 0 ? String(pids.limit) : "max")
    }

    private func applyBlockIO(_ io: Resources.BlockIO, warn: (String) -> Void) throws {
        let hasAny = io.weight != nil || io.leafWeight != nil || !(io.weightDevice ?? []).isEmpty
            || !(io.throttleReadBpsDevice ?? []).isEmpty || !(io.throttleWriteBpsDevice ?? []).isEmpty
            || !(io.throttleReadIOPSDevice ?? []).isEmpty || !(io.throttleWriteIOPSDevice ?? []).isEmpty
        guard hasAny else { return }
        if let hierarchy = layout.hierarchy(for: "blkio"), hierarchy.version == .v1, let dir = directory(for: "blkio") {
            let plan = BlkioV1Writes(io) { Files.exists(dir + "/" + $0) }
            for skipped in plan.skipped {
                warn("linux.resources.blockIO: \(skipped) is not applied: this kernel has no such file (leaf weights need the CFQ scheduler)")
            }
            for write in plan.writes {
                if (write.file == "blkio.weight" || write.file == "blkio.bfq.weight") && !Files.exists(dir + "/" + write.file) {
                    throw CgroupError.unsupported("linux.resources.blockIO.weight: no blkio weight file (is an I/O scheduler with weights in use?)")
                }
                try self.write(dir, write.file, write.value)
            }
            return
        }
        let (_, dir) = try controllerDirectory("io", for: "linux.resources.blockIO")
        if let weight = io.weight, weight > 0 {
            // blkio weight [10, 1000] -> io weight [1, 10000]
            let converted = 1 + (Int(min(max(weight, 10), 1000)) - 10) * 9999 / 990
            try write(dir, Files.exists(dir + "/io.weight") ? "io.weight" : "io.bfq.weight", String(converted))
        }
        let throttles: [(String, [Resources.ThrottleDevice]?)] = [
            ("rbps", io.throttleReadBpsDevice), ("wbps", io.throttleWriteBpsDevice),
            ("riops", io.throttleReadIOPSDevice), ("wiops", io.throttleWriteIOPSDevice),
        ]
        for (key, devices) in throttles {
            for device in devices ?? [] { try write(dir, "io.max", "\(device.major):\(device.minor) \(key)=\(device.rate)") }
        }
    }

    private func applyHugepages(_ limits: [Resources.HugepageLimit]) throws {
        let (version, dir) = try controllerDirectory("hugetlb", for: "linux.resources.hugepageLimits")
        for limit in limits {
            let file = version == .v1 ? "hugetlb.\(limit.pageSize).limit_in_bytes" : "hugetlb.\(limit.pageSize).max"
            guard Files.exists(dir + "/" + file) else {
                throw CgroupError.unsupported("linux.resources.hugepageLimits: page size \"\(limit.pageSize)\" is not supported by this kernel")
            }
            try write(dir, file, String(limit.limit))
        }
    }

    private func applyNetwork(_ network: Resources.Network) throws {
        if let classID = network.classID {
            let (_, dir) = try controllerDirectory("net_cls", for: "linux.resources.network.classID")
            try write(dir, "net_cls.classid", String(classID))
        }
        if let priorities = network.priorities, !priorities.isEmpty {
            let (_, dir) = try controllerDirectory("net_prio", for: "linux.resources.network.priorities")
            for priority in priorities { try write(dir, "net_prio.ifpriomap", "\(priority.name) \(priority.priority)") }
        }
    }

    private func applyUnified(_ unified: [String: String]) throws {
        guard let dir = paths.first(where: { $0.hierarchy.version == .v2 })?.directory else {
            throw CgroupError.unsupported("linux.resources.unified needs cgroup v2, which this host does not mount")
        }
        for (key, value) in unified.sorted(by: { $0.key < $1.key }) {
            guard !key.contains("/"), !key.hasPrefix(".") else {
                throw CgroupError.unsupported("linux.resources.unified: \"\(key)\" is not a cgroup file name")
            }
            guard Files.exists(dir + "/" + key) else {
                throw CgroupError.unsupported("linux.resources.unified: \"\(key)\" does not exist in \(dir) (controller not enabled?)")
            }
            try write(dir, key, value)
        }
    }

    private func applyDevices(_ rules: [DeviceCgroupRule], warn: (String) -> Void) throws {
        if let hierarchy = layout.hierarchy(for: "devices"), hierarchy.version == .v1, let dir = directory(for: "devices") {
            // A v1 child cgroup starts as its parent; deny everything, then replay the
            // rules in order so later rules override earlier ones, as the spec says.
            try write(dir, "devices.deny", "a")
            for rule in rules + Cgroup.defaultAllowedDevices {
                if rule.isWildcard {
                    // "a" rules affect everything: allow-all is written as is, deny-all resets.
                    try write(dir, rule.allow ? "devices.allow" : "devices.deny", "a")
                    continue
                }
                // No access left once unknown letters are dropped: the rule changes nothing.
                if rule.permissions.isEmpty { continue }
                try write(dir, rule.allow ? "devices.allow" : "devices.deny", rule.cgroupV1Line)
            }
            return
        }
        // cgroup v2: an eBPF program holds the rules (the default devices last, so they win).
        if layout.mode == .unified, let directory = paths.first(where: { $0.hierarchy.version == .v2 })?.directory {
            try DeviceFilterProgram(rules: rules + Cgroup.defaultAllowedDevices).attach(to: directory)
        }
    }
}
