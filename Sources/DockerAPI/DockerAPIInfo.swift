#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys

/// Facts about this host and build that `/version` and `/info` report.
enum DockerAPIInfo {
    static let engineVersion = "0.1.0"

    /// The compiler this was built with (docker reports its Go version here).
    static var swiftVersion: String {
        #if compiler(>=6.3)
        return "swift6.3"
        #elseif compiler(>=6.2)
        return "swift6.2"
        #else
        return "swift6"
        #endif
    }

    static func uname() -> (kernel: String, machine: String, node: String) {
        var names = utsname()
        Glibc.uname(&names)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return (text(names.release), text(names.machine), text(names.nodename))
    }

    /// Go's names for architectures (docker reports amd64, not x86_64).
    static var architecture: String {
        switch uname().machine {
        case "x86_64": return "amd64"
        case "aarch64": return "arm64"
        case let other: return other
        }
    }

    static var operatingSystem: String {
        for line in ((try? Files.readString("/etc/os-release")) ?? "").split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst(12)).trimmingCharacters(in: "\"")
        }
        return "Linux"
    }

    static var memoryTotal: Int64 {
        for line in ((try? Files.readString("/proc/meminfo")) ?? "").split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let number = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) } ?? 0
            return number * 1024
        }
        return 0
    }

    static var cgroupVersion: String { Files.exists("/sys/fs/cgroup/cgroup.controllers") ? "2" : "1" }
}

extension String {
    func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}

extension DockerAPIInfo {
    /// The first of these environment variables that is set, or "".
    static func environment(_ names: String...) -> String {
        for name in names { if let value = getenv(name) { return String(cString: value) } }
        return ""
    }

    /// docker's `{"ID", "Expected"}` of a component's version.
    static func commit(_ id: String) -> JSONValue {
        var object = JSONObject()
        object.set("ID", .string(id))
        object.set("Expected", .string(id))
        return .object(object)
    }

    /// `RegistryConfig` as dockerd reports its defaults: loopback registries insecure,
    /// Docker Hub's index (which Caisson never contacts unless asked).
    static var registryConfig: JSONObject {
        var object = JSONObject()
        object.set("AllowNondistributableArtifactsCIDRs", .array([]))
        object.set("AllowNondistributableArtifactsHostnames", .array([]))
        object.set("InsecureRegistryCIDRs", .strings(["127.0.0.0/8"]))
        var hub = JSONObject()
        hub.set("Name", .string("docker.io"))
        hub.set("Mirrors", .array([]))
        hub.set("Secure", .bool(true))
        hub.set("Official", .bool(true))
        var indexes = JSONObject()
        indexes.set("docker.io", .object(hub))
        object.set("IndexConfigs", .object(indexes))
        object.set("Mirrors", .array([]))
        return object
    }
}
