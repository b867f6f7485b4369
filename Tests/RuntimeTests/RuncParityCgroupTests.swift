import Foundation
import Testing
@testable import OCISpec
@testable import Cgroups

/// caisson-runtime beside runc on cgroup behaviour callers rely on: `exec --cgroup`,
/// cpuset seeding of nested paths, blkio weight files, unified keys the host cannot take,
/// and the warning for a cgroup that already has processes. Each scenario runs through
/// both runtimes (`RuncParityTests.compare`) and is compared with runc's answers.
@Suite(.serialized)
struct RuncParityCgroupTests {
    /// The mounted hierarchies: every /sys/fs/cgroup/X holding cgroup.procs (v1
    /// controllers, name=systemd, and the v2 one at "unified" on hybrid hosts).
    static var hierarchies: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []).sorted()
            .map { "/sys/fs/cgroup/" + $0 }.filter { FileManager.default.fileExists(atPath: $0 + "/cgroup.procs") }
    }

    static func read(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Makes `path` (absolute, below the hierarchy root) in every hierarchy; in the v1
    /// cpuset one each new level gets its parent's cpus and mems, so tasks may join.
    static func makeCgroup(_ path: String) {
        for hierarchy in hierarchies {
            var current = hierarchy
            for component in path.split(separator: "/") {
                let parent = current
                current += "/" + component
                guard mkdir(current, 0o755) == 0, hierarchy.hasSuffix("/cpuset") else { continue }
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    try? read(parent + "/" + file).write(toFile: current + "/" + file, atomically: false, encoding: .utf8)
                }
            }
        }
    }

    /// Removes `path` and what is below it from every hierarchy (deepest first).
    static func removeCgroup(_ path: String) {
        func remove(_ directory: String) {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory), isDirectory.boolValue {
                    remove(directory + "/" + name)
                }
            }
            for _ in 0..<100 where rmdir(directory) != 0 && errno == EBUSY { usleep(10_000) }
        }
        for hierarchy in hierarchies {
            remove(hierarchy + path)
            // Then the now-empty parents this test made.
            var parent = (path as NSString).deletingLastPathComponent
            while parent != "/" && !parent.isEmpty {
                rmdir(hierarchy + parent)
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
    }

    /// What runc's log (and caisson-runtime's) says at a level: the messages, in order.
    static func messages(_ stderr: String, level: String) -> [String] {
        stderr.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("level=\(level)"), let range = line.range(of: "msg=\"") else { return nil }
            var text = String(line[range.upperBound...])
            if text.hasSuffix("\"") { text.removeLast() }
            return text.replacingOccurrences(of: "\\\"", with: "\"")
        }
    }

    // MARK: 16. cpuset of nested paths

    /// A nested cgroupsPath whose parent level exists with an empty cpuset (made by an
    /// engine or by hand) gets cpus and mems copied into every level, so the process can
    /// join; it failed with ENOSPC. A fresh nested path works too.
    @Test func nestedCpusetIsSeeded() throws {
        guard FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpuset/cpuset.cpus") else { return }
        let seen = try RuncParityTests.compare { driver in
            var observed: [String] = []
            for preexisting in [false, true] {
                let pod = "/" + Scratch.uniqueID("parity-pod")
                if preexisting { mkdir("/sys/fs/cgroup/cpuset" + pod, 0o755) }
                defer { Self.removeCgroup(pod) }
                var bundle = try BusyboxBundle(args: ["cat", "/proc/self/cgroup"])
                bundle.spec.linux?.cgroupsPath = pod + "/ctr"
                try bundle.write()
                let id = Scratch.uniqueID("cpuset")
                defer { driver.forceDelete(id) }
                let ran = try driver.run(["run", "--bundle", bundle.directory, id], timeout: 30)
                let podCpus = Self.read("/sys/fs/cgroup/cpuset\(pod)/cpuset.cpus")
                observed.append("\(preexisting ? "existing" : "new") pod: run \(ran.status), "
                    + "pod cpus \(podCpus == Self.read("/sys/fs/cgroup/cpuset/cpuset.cpus") ? "parent's" : "'\(podCpus)'")")
            }
            return observed
        }
        #expect(seen["caisson-runtime"] == ["new pod: run 0, pod cpus parent's", "existing pod: run 0, pod cpus parent's"])
        RuncParityTests.expectSameAsRunc(seen)
    }

}
