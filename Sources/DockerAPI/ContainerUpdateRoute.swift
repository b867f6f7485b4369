import CaissonJSON
import Engine

/// `POST /containers/{id}/update` (docker update): Memory, MemorySwap, MemoryReservation,
/// NanoCpus, CpuShares, CpusetCpus, CpusetMems, CpuPeriod, CpuQuota, PidsLimit and
/// RestartPolicy through the engine's `update`; zero (or null) leaves a setting as it is,
/// as docker reads the body. Other resources set to anything else are refused by name.
extension DockerAPI {
    static let updateFields: Set<String> = [
        "Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares", "CpusetCpus", "CpusetMems", "CpuPeriod",
        "CpuQuota", "PidsLimit", "RestartPolicy", "MemorySwappiness",
    ]

    func addContainerUpdateRoute(_ router: inout Router) {
        router.add(.POST, "/containers/{id}/update") { [self] request in
            let id = request.parameters["id"] ?? ""
            let change = try DockerAPI.containerUpdate(from: request.body)
            try await blocking { try self.engine.update(id, change) }
            var object = JSONObject()
            object.set("Warnings", .array([]))
            return .json(object)
        }
    }

    static func containerUpdate(from bytes: [UInt8]) throws(DockerAPIError) -> ContainerUpdate {
        let body = try JSONBody(parsing: bytes)
        try body.refuseFields(except: updateFields)
        if case .number(let text)? = body.object["MemorySwappiness"], Int(text) != -1 {
            throw .badParameter("invalid field MemorySwappiness: not supported by Caisson's API yet")
        }
        var change = ContainerUpdate()
        func nonZero(_ key: String) throws(DockerAPIError) -> Int64? {
            guard let value = try body.int64(key), value != 0 else { return nil }
            return value
        }
        change.memory = try nonZero("Memory")
        change.memorySwap = try nonZero("MemorySwap")
        change.memoryReservation = try nonZero("MemoryReservation")
        if let nanoCPUs = try nonZero("NanoCpus") {
            guard nanoCPUs > 0 else { throw .badParameter("invalid field NanoCpus: \(nanoCPUs) is negative") }
            change.cpus = Double(nanoCPUs) / 1e9
        }
        change.cpuShares = try nonZero("CpuShares")
        change.cpuPeriod = try nonZero("CpuPeriod")
        change.cpuQuota = try nonZero("CpuQuota")
        change.cpusetCpus = try body.string("CpusetCpus").flatMap { $0.isEmpty ? nil : $0 }
        change.cpusetMems = try body.string("CpusetMems").flatMap { $0.isEmpty ? nil : $0 }
        // PidsLimit: null leaves it, 0 and -1 are unlimited (docker's API).
        if let pids = try body.int64("PidsLimit") { change.pidsLimit = pids == 0 ? -1 : pids }
        if let policy = try body.object("RestartPolicy"), let name = try policy.string("Name"), !name.isEmpty {
            let retries = try policy.int64("MaximumRetryCount") ?? 0
            change.restart = name == "on-failure" && retries > 0 ? "on-failure:\(retries)" : name
        }
        return change
    }
}
