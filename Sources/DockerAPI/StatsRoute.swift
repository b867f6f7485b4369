import CaissonJSON
import Cgroups
import Engine
import NIOHTTP1

/// `GET /containers/{id}/stats`: docker's stats document from the engine's
/// `statsSample` (cgroup counters, host CPU time, the container's interfaces). With
/// `stream` (the default) one document a second, each with the previous reading as
/// `precpu_stats`, until the client goes or the container stops; with `stream=false`
/// one document from two readings a second apart (as docker's collector gives it); with
/// `one-shot=true` one document from one reading (empty `precpu_stats`).
extension DockerAPI {
    func addStatsRoute(_ router: inout Router) {
        router.add(.GET, "/containers/{id}/stats") { [self] request in
            let id = request.parameters["id"] ?? ""
            // docker's query booleans: "", 0, no, false and none (any case) are false.
            let stream = request.string("stream").map { !["", "0", "no", "false", "none"].contains($0.lowercased()) } ?? true
            let oneShot = request.bool("one-shot")
            if oneShot && stream {
                throw DockerAPIError.badParameter("cannot have stream=true and one-shot=true")
            }
            let record = try await blocking { try self.engine.find(id) }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            if !stream {
                var previous: ContainerStatsSample?
                if !oneShot {
                    previous = try await blocking { self.engine.statsSample(of: record) }
                    if previous != nil { try await Task.sleep(nanoseconds: 1_000_000_000) }
                }
                let current = try await blocking { self.engine.statsSample(of: record) }
                let document = StatsDocument.make(record, current, previous: previous)
                return APIResponse(status: .ok, headers: headers, body: .bytes(JSONEncoding.serialize(.object(document)) + [0x0a]))
            }
            return APIResponse(status: .ok, headers: headers, body: .stream { [self] output in
                var previous: ContainerStatsSample?
                while true {
                    let current = try await blocking { self.engine.statsSample(of: record) }
                    try await output.send(JSONEncoding.serialize(.object(StatsDocument.make(record, current, previous: previous))) + [0x0a])
                    guard current != nil else { return }
                    previous = current
                    try await Task.sleep(nanoseconds: 1_000_000_000)
                }
            })
        }
    }
}

/// docker's `ContainerStats` JSON (API 1.4x) from engine readings; a container that does
/// not run gets docker's zero document (times at Go's zero time).
enum StatsDocument {
    static let zeroTime = "0001-01-01T00:00:00Z"

    static func make(_ record: ContainerRecord, _ sample: ContainerStatsSample?, previous: ContainerStatsSample?) -> JSONObject {
        var object = JSONObject()
        object.set("name", .string("/" + record.name))
        object.set("id", .string(record.id))
        object.set("read", .string(sample?.read ?? zeroTime))
        object.set("preread", .string(previous?.read ?? zeroTime))
        var pids = JSONObject()
        pids.set("current", .int(sample?.cgroup.pids.current ?? 0))
        if let limit = sample?.cgroup.pids.limit, limit != UInt64.max { pids.set("limit", .int(limit)) }
        object.set("pids_stats", .object(pids))
        object.set("blkio_stats", .object(blkio(sample)))
        object.set("num_procs", .int(0))
        object.set("storage_stats", .object(JSONObject()))
        object.set("cpu_stats", .object(cpu(sample)))
        object.set("precpu_stats", .object(cpu(previous)))
        object.set("memory_stats", .object(memory(sample)))
        if let sample {
            var networks = JSONObject()
            for (name, counters) in sample.networks {
                var item = JSONObject()
                item.set("rx_bytes", .int(counters.rxBytes))
                item.set("rx_packets", .int(counters.rxPackets))
                item.set("rx_errors", .int(counters.rxErrors))
                item.set("rx_dropped", .int(counters.rxDropped))
                item.set("tx_bytes", .int(counters.txBytes))
                item.set("tx_packets", .int(counters.txPackets))
                item.set("tx_errors", .int(counters.txErrors))
                item.set("tx_dropped", .int(counters.txDropped))
                networks.set(name, .object(item))
            }
            object.set("networks", .object(networks))
        }
        return object
    }

    static func cpu(_ sample: ContainerStatsSample?) -> JSONObject {
        var usage = JSONObject()
        usage.set("total_usage", .int(sample?.cgroup.cpu.usage.total ?? 0))
        if let percpu = sample?.cgroup.cpu.usage.percpu, !percpu.isEmpty { usage.set("percpu_usage", .array(percpu.map { .int($0) })) }
        usage.set("usage_in_kernelmode", .int(sample?.cgroup.cpu.usage.kernel ?? 0))
        usage.set("usage_in_usermode", .int(sample?.cgroup.cpu.usage.user ?? 0))
        var object = JSONObject()
        object.set("cpu_usage", .object(usage))
        if let sample {
            object.set("system_cpu_usage", .int(sample.systemCPUNanoseconds))
            object.set("online_cpus", .int(sample.onlineCPUs))
        }
        var throttling = JSONObject()
        throttling.set("periods", .int(sample?.cgroup.cpu.throttling.periods ?? 0))
        throttling.set("throttled_periods", .int(sample?.cgroup.cpu.throttling.throttled_periods ?? 0))
        throttling.set("throttled_time", .int(sample?.cgroup.cpu.throttling.throttled_time ?? 0))
        object.set("throttling_data", .object(throttling))
        return object
    }

    static func memory(_ sample: ContainerStatsSample?) -> JSONObject {
        var object = JSONObject()
        guard let sample else { return object }
        object.set("usage", .int(sample.cgroup.memory.usage.usage ?? 0))
        if let max = sample.cgroup.memory.usage.max { object.set("max_usage", .int(max)) }
        var stats = JSONObject()
        for (key, value) in (sample.cgroup.memory.raw ?? [:]).sorted(by: { $0.key < $1.key }) { stats.set(key, .int(value)) }
        object.set("stats", .object(stats))
        if let failcnt = sample.cgroup.memory.usage.failcnt { object.set("failcnt", .int(failcnt)) }
        object.set("limit", .int(sample.memoryLimit))
        return object
    }

    static func blkio(_ sample: ContainerStatsSample?) -> JSONObject {
        func entries(_ list: [ContainerStatsSample.BlkioEntry]?) -> JSONValue {
            guard let list else { return .null }
            return .array(list.map { entry in
                var item = JSONObject()
                item.set("major", .int(entry.major))
                item.set("minor", .int(entry.minor))
                item.set("op", .string(entry.op))
                item.set("value", .int(entry.value))
                return .object(item)
            })
        }
        var object = JSONObject()
        object.set("io_service_bytes_recursive", entries(sample?.ioServiceBytes))
        object.set("io_serviced_recursive", entries(sample?.ioServiced))
        for key in ["io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
                    "io_time_recursive", "sectors_recursive"] {
            object.set(key, .null)
        }
        return object
    }
}
