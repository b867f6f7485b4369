import CaissonJSON
import CaissonSys
import CRIProto
import Engine
import OCISpec
import SwiftProtobuf
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A pod sandbox as `caissond` keeps it: what the CRI config asked for is kept beside it
/// (config.pb, the request's own bytes); this holds what the daemon decided and made.
public struct SandboxRecord: Codable, Sendable {
    public var id: String
    public var name: String
    public var namespace: String
    public var uid: String
    public var attempt: UInt32
    /// Nanoseconds since the epoch.
    public var createdAt: Int64
    /// StopPodSandbox was called: the sandbox is NOTREADY for good.
    public var stopped: Bool
    public var runtimeHandler: String
    public var runtimePath: String
    /// The pod's network namespace (a bind mount under the run root); nil on the host network.
    public var netnsPath: String?
    public var ip: String?
    public var additionalIPs: [String]
    public var hostname: String
    public var cgroupParent: String
    public var hostNetwork: Bool
    public var hostIPC: Bool
    /// The pod's PID namespace mode: 0 POD, 1 CONTAINER, 2 NODE (runtime.v1 NamespaceMode).
    public var pidMode: Int
    public var logDirectory: String

    /// The kubelet's unique name of a sandbox.
    var key: String { "\(name)_\(namespace)_\(uid)_\(attempt)" }
}

/// A container of a pod, as `caissond` keeps it; its CRI config is in config.pb beside it.
public struct PodContainerRecord: Codable, Sendable {
    public var id: String
    public var sandboxID: String
    public var name: String
    public var attempt: UInt32
    public var createdAt: Int64
    /// The image id (sha256:...), and the reference the kubelet asked for.
    public var imageID: String
    public var imageRef: String
    /// The CRI log file (absolute), or "" for none.
    public var logPath: String
    public var runtimePath: String
    public var cgroupsPath: String
    public var tty: Bool
    public var stdin: Bool
    public var stdinOnce: Bool
}

/// The live state of a pod container, read from the files its monitor keeps.
public struct PodContainerState: Sendable {
    public enum Status: Sendable { case created, running, exited }
    public var status: Status
    public var pid: Int32?
    public var startedAt: Int64 = 0
    public var finishedAt: Int64 = 0
    public var exitCode: Int32 = 0
    public var oomKilled = false
}

/// Sandboxes and containers in memory, each saved as a directory under
/// `ROOT/cri/{sandboxes,containers}/ID` (record.json, config.pb, the monitor's files), and
/// loaded again when the daemon restarts. Names are reserved here, so two sandboxes or two
/// containers of a pod cannot share a name.
public final class PodStore: Sendable {
    public let root: String
    private struct Contents {
        var sandboxes: [String: (record: SandboxRecord, config: Runtime_V1_PodSandboxConfig)] = [:]
        var containers: [String: (record: PodContainerRecord, config: Runtime_V1_ContainerConfig)] = [:]
        var names: [String: String] = [:]
    }
    private let contents = Mutex(Contents())

    public init(root: String) throws(SysError) {
        self.root = root
        try Files.makeDirectories(root + "/sandboxes", mode: 0o700)
        try Files.makeDirectories(root + "/containers", mode: 0o700)
        load()
    }

    public func sandboxDirectory(_ id: String) -> String { root + "/sandboxes/" + id }
    public func containerDirectory(_ id: String) -> String { root + "/containers/" + id }

    private func load() {
        var loaded = Contents()
        for id in (try? Files.listSubdirectories(root + "/sandboxes")) ?? [] {
            let directory = sandboxDirectory(id)
            guard let bytes = try? Files.readBytes(directory + "/record.json"),
                  let record = try? SpecJSON.decode(SandboxRecord.self, from: bytes, file: "record.json"),
                  let configBytes = try? Files.readBytes(directory + "/config.pb"),
                  let config = try? Runtime_V1_PodSandboxConfig(serializedBytes: configBytes) else {
                PodStore.discard(directory)
                continue
            }
            loaded.sandboxes[id] = (record, config)
            loaded.names["sandbox:" + record.key] = id
        }
        for id in (try? Files.listSubdirectories(root + "/containers")) ?? [] {
            let directory = containerDirectory(id)
            guard let bytes = try? Files.readBytes(directory + "/record.json"),
                  let record = try? SpecJSON.decode(PodContainerRecord.self, from: bytes, file: "record.json"),
                  let configBytes = try? Files.readBytes(directory + "/config.pb"),
                  let config = try? Runtime_V1_ContainerConfig(serializedBytes: configBytes) else {
                PodStore.discard(directory)
                continue
            }
            loaded.containers[id] = (record, config)
            loaded.names["container:" + record.sandboxID + ":" + record.name] = id
        }
        contents.withLock { $0 = loaded }
    }

    /// A directory without a whole record, found at start: the record is written before
    /// anything else is made for a pod or container, and removed last, so this is what a
    /// daemon killed in the middle of writing it, or of removing the rest, left behind.
    static func discard(_ directory: String) {
        for mount in ["/bundle/rootfs", "/shm"] { umount2(directory + mount, Int32(MNT_DETACH)) }
        try? Files.removeTree(directory)
    }

    // MARK: Names

    /// Reserves a name; throws alreadyExists with the holder's id when it is taken.
    func reserve(_ name: String, for id: String) throws(CRIError) {
        let holder: String? = contents.withLock { contents in
            if let holder = contents.names[name] { return holder }
            contents.names[name] = id
            return nil
        }
        if let holder {
            throw .alreadyExists("the name \"\(name.split(separator: ":").last ?? "")\" is reserved for \(holder)")
        }
    }

    func release(_ name: String) {
        contents.withLock { _ = $0.names.removeValue(forKey: name) }
    }

    // MARK: Sandboxes

    func save(_ record: SandboxRecord, config: Runtime_V1_PodSandboxConfig) throws {
        try persist(record, config: config)
        contents.withLock { $0.sandboxes[record.id] = (record, config) }
    }

    /// Writes a sandbox to disk only (listed after the next daemon start, not before `save`).
    func persist(_ record: SandboxRecord, config: Runtime_V1_PodSandboxConfig) throws {
        let directory = sandboxDirectory(record.id)
        try Files.makeDirectories(directory, mode: 0o700)
        try Files.writeAtomically(directory + "/config.pb", bytes: Array(try config.serializedBytes() as [UInt8]))
        try Files.writeAtomically(directory + "/record.json", bytes: SpecJSON.encode(record))
    }

    func update(_ record: SandboxRecord) throws {
        try Files.writeAtomically(sandboxDirectory(record.id) + "/record.json", bytes: SpecJSON.encode(record))
        contents.withLock { $0.sandboxes[record.id]?.record = record }
    }

    /// A sandbox by id or unique id prefix.
    func sandbox(_ id: String) throws(CRIError) -> (record: SandboxRecord, config: Runtime_V1_PodSandboxConfig) {
        let matches = contents.withLock { contents in
            if let exact = contents.sandboxes[id] { return [exact] }
            return id.isEmpty ? [] : contents.sandboxes.filter { $0.key.hasPrefix(id) }.map(\.value)
        }
        guard matches.count == 1 else {
            if matches.count > 1 { throw .invalid("the sandbox id prefix \"\(id)\" is ambiguous") }
            throw .notFound("pod sandbox \"\(id)\" not found")
        }
        return matches[0]
    }

    func sandboxes() -> [(record: SandboxRecord, config: Runtime_V1_PodSandboxConfig)] {
        contents.withLock { Array($0.sandboxes.values) }
    }

    func forget(sandbox record: SandboxRecord) {
        contents.withLock { contents in
            contents.sandboxes[record.id] = nil
            contents.names["sandbox:" + record.key] = nil
        }
    }

    // MARK: Containers

    func save(_ record: PodContainerRecord, config: Runtime_V1_ContainerConfig) throws {
        try persist(record, config: config)
        contents.withLock { $0.containers[record.id] = (record, config) }
    }

    /// Writes a container to disk only (listed after the next daemon start, not before `save`).
    func persist(_ record: PodContainerRecord, config: Runtime_V1_ContainerConfig) throws {
        let directory = containerDirectory(record.id)
        try Files.makeDirectories(directory, mode: 0o700)
        try Files.writeAtomically(directory + "/config.pb", bytes: Array(try config.serializedBytes() as [UInt8]))
        try Files.writeAtomically(directory + "/record.json", bytes: SpecJSON.encode(record))
    }

    func container(_ id: String) throws(CRIError) -> (record: PodContainerRecord, config: Runtime_V1_ContainerConfig) {
        let matches = contents.withLock { contents in
            if let exact = contents.containers[id] { return [exact] }
            return id.isEmpty ? [] : contents.containers.filter { $0.key.hasPrefix(id) }.map(\.value)
        }
        guard matches.count == 1 else {
            if matches.count > 1 { throw .invalid("the container id prefix \"\(id)\" is ambiguous") }
            throw .notFound("container \"\(id)\" not found")
        }
        return matches[0]
    }

    func containers() -> [(record: PodContainerRecord, config: Runtime_V1_ContainerConfig)] {
        contents.withLock { Array($0.containers.values) }
    }

    func containers(inSandbox id: String) -> [PodContainerRecord] {
        contents.withLock { $0.containers.values.map(\.record).filter { $0.sandboxID == id } }
    }

    func forget(container record: PodContainerRecord) {
        contents.withLock { contents in
            contents.containers[record.id] = nil
            contents.names["container:" + record.sandboxID + ":" + record.name] = nil
        }
    }

    // MARK: State from the monitor's files

    /// created (never started), running (monitor alive, no exit yet) or exited.
    func state(ofDirectory directory: String) -> PodContainerState {
        var state = PodContainerState(status: .created)
        if let started = try? Files.readTrimmed(directory + "/started") {
            let parts = started.split(separator: " ")
            state.pid = parts.first.flatMap { Int32($0) }
            state.startedAt = parts.count > 1 ? Timestamps.nanoseconds(rfc3339: String(parts[1])) : 0
            state.status = .running
        }
        if let exit = try? Files.readTrimmed(directory + "/exit") {
            let parts = exit.split(separator: " ")
            state.exitCode = parts.first.flatMap { Int32($0) } ?? 255
            state.finishedAt = parts.count > 1 ? Timestamps.nanoseconds(rfc3339: String(parts[1])) : 0
            state.oomKilled = parts.count > 2 && parts[2] == "oom"
            state.status = .exited
            return state
        }
        if state.status == .running {
            let monitor = (try? Files.readTrimmed(directory + "/monitor.pid")).flatMap { Int32($0) }
            let alive = monitor.map { kill($0, 0) == 0 && ContainerEngine.isMonitor($0) } ?? false
            if !alive {
                // The monitor is gone without an exit record (killed, or the machine restarted).
                state.status = .exited
                state.exitCode = 255
            }
        }
        return state
    }
}

/// Times as the CRI carries them: nanoseconds since the epoch.
enum Timestamps {
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// "2026-11-29T22:26:19.123456789Z" -> nanoseconds; 0 when unreadable.
    static func nanoseconds(rfc3339 text: String) -> Int64 {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return 0 }
        func number(_ range: Range<Int>) -> Int32? { Int32(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return 0 }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let seconds = Int64(timegm(&parts))
        var nanos: Int64 = 0
        if bytes.count > 20, bytes[19] == UInt8(ascii: ".") {
            var digits = 0
            var index = 20
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39, digits < 9 {
                nanos = nanos * 10 + Int64(bytes[index] - 0x30)
                digits += 1
                index += 1
            }
            while digits < 9 { nanos *= 10; digits += 1 }
        }
        return seconds * 1_000_000_000 + nanos
    }
}
