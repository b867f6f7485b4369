import Foundation
import OCISpec

/// Drives the built caisson-runtime binary as an engine would, with a private --root
/// so tests can run side by side.
struct RuntimeDriver {
    let root: String

    /// The binary next to the test bundle in .build/<triple>/debug.
    static let binary: String = {
        if let override = ProcessInfo.processInfo.environment["CAISSON_RUNTIME"] { return override }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var directory = (exe as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            let candidate = directory + "/caisson-runtime"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return "/work/main/.build/debug/caisson-runtime"
    }()

    /// The runtime this driver runs: caisson-runtime, or a peer (runc) for side-by-side tests.
    let executable: String

    init(executable: String = RuntimeDriver.binary) throws {
        root = try Scratch.directory("root")
        self.executable = executable
    }

    /// caisson-runtime and, where installed, runc: the same commands through each.
    static var withPeers: [String] {
        [binary] + ["/usr/sbin/runc", "/usr/bin/runc"].filter { FileManager.default.isExecutableFile(atPath: $0) }.prefix(1)
    }

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> Shell.Result {
        try Shell.run(executable, ["--root", root] + arguments, stdin: stdin, timeout: timeout)
    }

    /// Writes the bundle's config and starts it detached (`run -d`); returns the id.
    func runDetached(_ bundle: BusyboxBundle, prefix: String) throws -> String {
        try bundle.write()
        let id = Scratch.uniqueID(prefix)
        let result = try run(["run", "-d", "--bundle", bundle.directory, id])
        guard result.status == 0 else {
            throw DriverError(description: "run -d \(id) failed: \(result.stderr)")
        }
        return id
    }

    /// `delete --force`, for cleanup.
    func forceDelete(_ id: String) {
        _ = try? run(["delete", "-f", id])
    }

    struct DriverError: Error, CustomStringConvertible {
        let description: String
    }

    func state(_ id: String) throws -> [String: Any] {
        let result = try run(["state", id])
        guard result.status == 0 else { return ["error": result.stderr] }
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
    }

    func status(_ id: String) throws -> String {
        (try state(id)["status"] as? String) ?? "missing"
    }

    /// Asserts nothing of the container is left on the host: no state directory, no
    /// cgroup directory in any hierarchy, no mount under its rootfs.
    func leftovers(id: String, bundle: BusyboxBundle? = nil) -> [String] {
        var found: [String] = []
        if FileManager.default.fileExists(atPath: root + "/" + id) { found.append("state directory \(root)/\(id)") }
        let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        for hierarchy in hierarchies {
            let path = "/sys/fs/cgroup/\(hierarchy)/\(id)"
            if FileManager.default.fileExists(atPath: path) { found.append("cgroup \(path)") }
        }
        if let bundle, let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8),
           mounts.contains(bundle.rootfs) {
            found.append("mount under \(bundle.rootfs)")
        }
        return found
    }
}
