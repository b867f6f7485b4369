#if canImport(Glibc)
import Glibc
#endif
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
