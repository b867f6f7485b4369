import OCISpec

/// The cgroup v1 blkio files that linux.resources.blockIO becomes, and the text each
/// takes, for the I/O scheduler whose files the cgroup shows.
///
/// With CFQ (kernels before 5.0) the weights are `blkio.weight` and
/// `blkio.weight_device`; with BFQ they are `blkio.bfq.weight`, which takes a bare number
/// only, and `blkio.bfq.weight_device`, which takes `MAJ:MIN WEIGHT`. Rules are written
/// as runc writes them (`MAJ:MIN VALUE`, zero weights left out). The leaf weights belong
/// to CFQ alone: where the kernel has no such file they are skipped, with a warning,
/// rather than failing the container.
struct BlkioV1Writes: Equatable {
    struct Write: Equatable {
        let file: String
        let value: String
    }

    var writes: [Write] = []
    /// What was left out because the kernel lacks the file, for a warning each.
    var skipped: [String] = []

    /// `exists` answers whether a file is present in the container's blkio directory.
    init(_ io: Resources.BlockIO, exists: (String) -> Bool) {
        let cfq = exists("blkio.weight")
        let weightFile = cfq ? "blkio.weight" : "blkio.bfq.weight"
        let weightDeviceFile = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device"
        if let weight = io.weight, weight > 0 {
            writes.append(Write(file: weightFile, value: String(weight)))
        }
        if let leaf = io.leafWeight, leaf > 0 {
            leafWrite("blkio.leaf_weight", String(leaf), exists: exists)
        }
        for device in io.weightDevice ?? [] {
            let node = "\(device.major):\(device.minor)"
            if let weight = device.weight, weight > 0 {
                writes.append(Write(file: weightDeviceFile, value: "\(node) \(weight)"))
            }
            if let leaf = device.leafWeight, leaf > 0 {
                leafWrite("blkio.leaf_weight_device", "\(node) \(leaf)", exists: exists)
            }
        }
        let throttles: [(String, [Resources.ThrottleDevice]?)] = [
            ("blkio.throttle.read_bps_device", io.throttleReadBpsDevice),
            ("blkio.throttle.write_bps_device", io.throttleWriteBpsDevice),
            ("blkio.throttle.read_iops_device", io.throttleReadIOPSDevice),
            ("blkio.throttle.write_iops_device", io.throttleWriteIOPSDevice),
        ]
        for (file, devices) in throttles {
            for device in devices ?? [] {
                writes.append(Write(file: file, value: "\(device.major):\(device.minor) \(device.rate)"))
            }
        }
    }

    private mutating func leafWrite(_ file: String, _ value: String, exists: (String) -> Bool) {
        if exists(file) {
            writes.append(Write(file: file, value: value))
        } else {
            skipped.append("\(file) \"\(value)\"")
        }
    }
}
