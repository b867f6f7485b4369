import CaissonJSON
import CaissonSys
import CRIProto
import SwiftProtobuf

/// The `info` map of a verbose ContainerStatus or PodSandboxStatus: one key, "info", whose
/// value is a JSON document shaped as containerd's CRI plugin writes it (`crictl inspect`
/// and `crictl inspectp` print it, and tools read fields such as `pid` and `runtimeSpec`
/// from it). Field names follow containerd's; the CRI configs are in the proto's own field
/// names, as containerd's Go encoding of them has it.
enum VerboseInfo {
    static func container(record: PodContainerRecord, config: Runtime_V1_ContainerConfig, state: PodContainerState,
                          bundle: String) -> [String: String] {
        var info = JSONObject()
        info.set("sandboxID", .string(record.sandboxID))
        info.set("pid", .number(String(state.status == .running ? state.pid ?? 0 : 0)))
        info.set("removing", .bool(false))
        info.set("snapshotKey", .string("cri-" + record.id))
        info.set("snapshotter", .string("overlayfs"))
        info.set("runtimeType", .string(runtimeType(record.runtimePath)))
        info.set("runtimeOptions", runtimeOptions(record.runtimePath))
        info.set("config", protobufJSON(config))
        info.set("runtimeSpec", document(bundle + "/config.json"))
        return ["info": String(decoding: JSONEncoding.serialize(.object(info)), as: UTF8.self)]
    }

    static func sandbox(record: SandboxRecord, config: Runtime_V1_PodSandboxConfig, pausePID: Int32?,
                        bundle: String, cniCache: String) -> [String: String] {
        var info = JSONObject()
        info.set("pid", .number(String(pausePID ?? 0)))
        info.set("processStatus", .string(pausePID != nil ? "running" : "stopped"))
        info.set("netNamespaceClosed", .bool(record.netnsPath.map { !Files.exists($0) } ?? false))
        info.set("image", .string("caisson-monitor pause"))
        info.set("snapshotKey", .string(""))
        info.set("snapshotter", .string(""))
        info.set("runtimeHandler", .string(record.runtimeHandler))
        info.set("runtimeType", .string(runtimeType(record.runtimePath)))
        info.set("runtimeOptions", runtimeOptions(record.runtimePath))
        info.set("config", protobufJSON(config))
        info.set("runtimeSpec", document(bundle + "/config.json"))
        var cniResult = JSONValue.null
        if case .object(let cached) = document(cniCache), let result = cached["cachedResult"] { cniResult = result }
        info.set("cniResult", cniResult)
        return ["info": String(decoding: JSONEncoding.serialize(.object(info)), as: UTF8.self)]
    }

    /// containerd names runtimes by shim type; ours run an OCI runtime directly.
    static func runtimeType(_ runtimePath: String) -> String { "io.caisson.oci." + Paths.base(runtimePath) }

    static func runtimeOptions(_ runtimePath: String) -> JSONValue {
        var options = JSONObject()
        options.set("binary_name", .string(runtimePath))
        return .object(options)
    }

    /// A JSON file as a value (null when missing or unreadable).
    static func document(_ path: String) -> JSONValue {
        guard let bytes = try? Files.readBytes(path), let value = try? JSONParser.parse(bytes) else { return .null }
        return value
    }

    static func protobufJSON(_ message: some SwiftProtobuf.Message) -> JSONValue {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        guard let text = try? message.jsonString(options: options),
              let value = try? JSONParser.parse(Array(text.utf8)) else { return .null }
        return value
    }
}
