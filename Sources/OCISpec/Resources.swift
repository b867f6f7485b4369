/// linux.resources: cgroup limits. Also the body of `update --resources`.
public struct Resources: Codable, Sendable, Equatable {
    public var devices: [DeviceCgroupRule]?
    public var memory: Memory?
    public var cpu: CPU?
    public var pids: Pids?
    public var blockIO: BlockIO?
    public var hugepageLimits: [HugepageLimit]?
    public var network: Network?
    public var rdma: [String: RdmaLimit]?
    public var unified: [String: String]?

    public init() {}

    public struct Memory: Codable, Sendable, Equatable {
        public var limit: Int64?
        public var reservation: Int64?
        public var swap: Int64?
        public var kernel: Int64?
        public var kernelTCP: Int64?
        public var swappiness: UInt64?
        public var disableOOMKiller: Bool?
        public var useHierarchy: Bool?
        public var checkBeforeUpdate: Bool?
        public init() {}
    }

    public struct CPU: Codable, Sendable, Equatable {
        public var shares: UInt64?
        public var quota: Int64?
        public var burst: UInt64?
        public var period: UInt64?
        public var realtimeRuntime: Int64?
        public var realtimePeriod: UInt64?
        public var cpus: String?
        public var mems: String?
        public var idle: Int64?
        public init() {}
    }

    public struct Pids: Codable, Sendable, Equatable {
        public var limit: Int64
        public init(limit: Int64) { self.limit = limit }
    }

    public struct BlockIO: Codable, Sendable, Equatable {
        public var weight: UInt16?
        public var leafWeight: UInt16?
        public var weightDevice: [WeightDevice]?
        public var throttleReadBpsDevice: [ThrottleDevice]?
        public var throttleWriteBpsDevice: [ThrottleDevice]?
        public var throttleReadIOPSDevice: [ThrottleDevice]?
        public var throttleWriteIOPSDevice: [ThrottleDevice]?
        public init() {}
    }

    public struct WeightDevice: Codable, Sendable, Equatable {
        public var major: Int64
        public var minor: Int64
        public var weight: UInt16?
        public var leafWeight: UInt16?
    }

    public struct ThrottleDevice: Codable, Sendable, Equatable {
        public var major: Int64
        public var minor: Int64
        public var rate: UInt64
    }

    public struct HugepageLimit: Codable, Sendable, Equatable {
        public var pageSize: String
        public var limit: UInt64

        public init(pageSize: String, limit: UInt64) {
            self.pageSize = pageSize
            self.limit = limit
        }
    }

    public struct Network: Codable, Sendable, Equatable {
        public var classID: UInt32?
        public var priorities: [InterfacePriority]?
    }

    public struct InterfacePriority: Codable, Sendable, Equatable {
        public var name: String
        public var priority: UInt32
    }

    public struct RdmaLimit: Codable, Sendable, Equatable {
        public var hcaHandles: UInt32?
        public var hcaObjects: UInt32?
    }
}

/// One rule of the device cgroup: allow or deny access to a class of devices.
public struct DeviceCgroupRule: Codable, Sendable, Equatable {
    public var allow: Bool
    public var type: String?
    public var major: Int64?
    public var minor: Int64?
    public var access: String?

    public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }

    /// The device type the rule applies to: "a" (every device) when unset or empty, as runc reads it.
    public var effectiveType: String { (type ?? "").isEmpty ? "a" : type! }

    /// Whether the rule covers every device: an "a" rule ignores its major and minor.
    public var isWildcard: Bool { effectiveType == "a" }

    /// The access the rule grants or denies, reduced to r, w and m in that order; other
    /// letters are ignored as runc and the kernel ignore them ("" when none is left).
    public var permissions: String {
        let given = access ?? "rwm"
        return String("rwm".filter { given.contains($0) })
    }

    /// The v1 devices.allow/devices.deny line: "c 1:3 rwm", "b *:* m"; -1 is a wildcard too.
    public var cgroupV1Line: String {
        func number(_ value: Int64?) -> String { value.map { $0 < 0 ? "*" : String($0) } ?? "*" }
        return "\(effectiveType) \(number(major)):\(number(minor)) \(permissions)"
    }
}
