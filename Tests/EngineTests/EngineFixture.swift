@_exported import CaissonTestSupport
import Foundation

/// A private engine: its own --root and --runroot, a busybox image imported into it, and
/// the built `caisson` binary driven as a user drives it. `tearDown` resets everything
/// (containers, networks and their iptables rules and bridges, volumes) and checks that
/// nothing of it is left on the machine.
final class EngineFixture: @unchecked Sendable {
    let root: String
    let runRoot: String
    let runtime: String
    static let image = "localhost/busybox:engine"

    static let binary: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var directory = (exe as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            if FileManager.default.isExecutableFile(atPath: directory + "/caisson") { return directory + "/caisson" }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return "/work/main/.build/debug/caisson"
    }()

    static let runcAvailable = FileManager.default.isExecutableFile(atPath: "/usr/sbin/runc")
        || FileManager.default.isExecutableFile(atPath: "/usr/bin/runc")

    init(runtime: String = "caisson-runtime") throws {
        root = try Scratch.directory("engine")
        runRoot = try Scratch.directory("engine-run")
        self.runtime = runtime
        let rootfs = try Scratch.directory("busybox")
        try FileManager.default.createDirectory(atPath: rootfs + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: rootfs + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: rootfs + "/tmp", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: rootfs + "/bin/busybox")
        for applet in ["sh", "cat", "echo", "ls", "id", "sleep", "httpd", "wget", "tty", "hostname", "true", "false", "trap", "kill", "env", "unshare", "test", "touch"] {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n".write(toFile: rootfs + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nuser:x:1000:\n".write(toFile: rootfs + "/etc/group", atomically: true, encoding: .utf8)
        try "<h1>caisson</h1>\n".write(toFile: rootfs + "/index.html", atomically: true, encoding: .utf8)
        let tarball = rootfs + ".tar"
        let tar = try Shell.run("/bin/tar", ["-C", rootfs, "-cf", tarball, "."])
        guard tar.status == 0 else { throw FixtureError(what: "tar", output: tar.stderr) }
        let imported = try run(["import", "-c", "CMD [\"/bin/sh\"]", "-c", "EXPOSE 80", tarball, EngineFixture.image])
        guard imported.status == 0 else { throw FixtureError(what: "import", output: imported.stderr) }
    }

    /// `caisson COMMAND [SUBCOMMAND] --root R --runroot RR ARGS...`
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> Shell.Result {
        var split = 1
        if ["network", "volume", "image", "system"].contains(arguments.first ?? ""), arguments.count > 1 { split = 2 }
        let global = ["--root", root, "--runroot", runRoot]
        return try Shell.run(EngineFixture.binary, Array(arguments[..<split]) + global + Array(arguments[split...]),
                             stdin: stdin, timeout: timeout)
    }

    /// `run` with this fixture's runtime.
    @discardableResult
    func runContainer(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> Shell.Result {
        try run(["run", "--runtime", runtime] + arguments, stdin: stdin, timeout: timeout)
    }

    /// Removes everything and returns what is left of it on the machine (should be empty).
    func tearDown() throws -> [String] {
        // This engine's containers (other suites run containers of their own meanwhile).
        let ids = try run(["ps", "-a", "-q", "--no-trunc"]).stdout.split(separator: "\n").map(String.init)
        // And its networks' bridges and subnets (other engines on the host have their own).
        var bridges: [String] = []
        var subnets: [String] = []
        let names = try run(["network", "ls", "-q"]).stdout.split(separator: "\n").map(String.init)
        if !names.isEmpty, let data = try run(["network", "inspect"] + names).stdout.data(using: .utf8),
           let networks = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] {
            for network in networks {
                if let bridge = (network["Options"] as? [String: String])?["com.docker.network.bridge.name"] { bridges.append(bridge) }
                for config in ((network["IPAM"] as? [String: Any])?["Config"] as? [[String: Any]]) ?? [] {
                    if let subnet = config["Subnet"] as? String { subnets.append(subnet) }
                }
            }
        }
        let reset = try run(["system", "reset", "--force"])
        var leftovers: [String] = []
        if reset.status != 0 { leftovers.append("system reset failed: \(reset.stderr)") }
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") where line.contains(root) || line.contains(runRoot) {
            leftovers.append("mount: \(line)")
        }
        let links = try Shell.run("/usr/sbin/ip", ["-o", "link"]).stdout
        for line in links.split(separator: "\n") {
            let fields = line.split(separator: " ")
            let name = fields.count > 1 ? String(fields[1].dropLast()) : ""
            if bridges.contains(name) || bridges.contains(where: { line.contains(" master \($0) ") }) {
                leftovers.append("link: \(line)")
            }
        }
        for table in ["nat", "filter"] {
            let rules = try Shell.run("/usr/sbin/iptables", ["-t", table, "-S"]).stdout
            for line in rules.split(separator: "\n") where line.contains("caisson:") {
                let words = line.split(separator: " ").map(String.init)
                if words.contains(where: { subnets.contains($0) || bridges.contains($0) }) {
                    leftovers.append("iptables \(table): \(line)")
                }
            }
        }
        let netns = (try? FileManager.default.contentsOfDirectory(atPath: runRoot + "/netns")) ?? []
        leftovers += netns.map { "netns: \($0)" }
        let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        for hierarchy in hierarchies {
            for id in ids where FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(hierarchy)/caisson/\(id)") {
                leftovers.append("cgroup: \(hierarchy)/caisson/\(id)")
            }
        }
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: runRoot)
        return leftovers
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let what: String
    let output: String
    var description: String { "\(what) failed: \(output)" }
}

/// An HTTP GET from the host, with busybox's wget.
func httpGet(_ url: String) throws -> String? {
    let result = try Shell.run("/bin/busybox", ["wget", "-q", "-O", "-", url], timeout: 15)
    return result.status == 0 ? result.stdout : nil
}
