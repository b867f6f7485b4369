import Foundation
import Testing
import OCISpec
import Cgroups

/// caisson-runtime beside runc on the same bundles: what a caller sees (exit statuses,
/// the container's state) must be the same. Each scenario runs with every runtime and is
/// compared with runc's answers.
@Suite(.serialized)
struct RuncParityTests {
    /// Runs `scenario` with each runtime; returns runtime -> what it observed.
    static func compare(_ scenario: (RuntimeDriver) throws -> [String]) throws -> [String: [String]] {
        var seen: [String: [String]] = [:]
        for executable in RuntimeDriver.withPeers {
            seen[(executable as NSString).lastPathComponent] = try scenario(try RuntimeDriver(executable: executable))
        }
        return seen
    }

    static func expectSameAsRunc(_ seen: [String: [String]]) {
        guard let runc = seen["runc"] else { return }
        #expect(seen["caisson-runtime"] == runc, "caisson-runtime \(seen["caisson-runtime"] ?? []) vs runc \(runc)")
    }

    /// `kill ID 0` and `kill --all ID 0`: a liveness probe, accepted while the container
    /// runs (caisson-runtime refused signal 0 as unknown); refused once it has stopped.
    @Test func signalZeroProbesLiveness() throws {
        let seen = try Self.compare { driver in
            let bundle = try BusyboxBundle(args: ["sleep", "100"])
            let id = try driver.runDetached(bundle, prefix: "probe")
            defer { driver.forceDelete(id) }
            var observed = [
                "kill 0: \(try driver.run(["kill", id, "0"]).status)",
                "kill --all 0: \(try driver.run(["kill", "--all", id, "0"]).status)",
                "still \(try driver.status(id))",
            ]
            _ = try driver.run(["kill", id, "KILL"])
            for _ in 0..<200 where try driver.status(id) != "stopped" { usleep(10_000) }
            observed.append("stopped, kill 0 fails: \(try driver.run(["kill", id, "0"]).status != 0)")
            return observed
        }
        #expect(seen["caisson-runtime"] == ["kill 0: 0", "kill --all 0: 0", "still running", "stopped, kill 0 fails: true"])
        Self.expectSameAsRunc(seen)
    }

    /// The v1 or v2 cgroup file of a controller for a process.
    static func cgroupFile(pid: Int, controller: String, file: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count == 3 else { continue }
            if parts[1].split(separator: ",").contains(Substring(controller)) {
                return "/sys/fs/cgroup/\(controller)\(parts[2])/\(file)"
            }
        }
        return nil
    }

    /// `update --memory -1 --pids-limit -1`: back to unlimited.
    @Test func updateMinusOneMeansUnlimited() throws {
        let seen = try Self.compare { driver in
            let bundle = try BusyboxBundle(args: ["sleep", "100"])
            let id = try driver.runDetached(bundle, prefix: "unlimit")
            defer { driver.forceDelete(id) }
            let pid = try driver.state(id)["pid"] as? Int ?? 0
            func read(_ controller: String, _ file: String) -> String {
                guard let path = Self.cgroupFile(pid: pid, controller: controller, file: file),
                      let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "?" }
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            var observed = ["limit: \(try driver.run(["update", "--memory", "64M", "--pids-limit", "50", id]).status)"]
            observed.append("\(read("memory", "memory.limit_in_bytes")) \(read("pids", "pids.max"))")
            observed.append("unlimit: \(try driver.run(["update", "--memory", "-1", "--pids-limit", "-1", id]).status)")
            let memory = read("memory", "memory.limit_in_bytes")
            observed.append("\((UInt64(memory) ?? 0) > UInt64(1) << 60 ? "unlimited" : memory) \(read("pids", "pids.max"))")
            return observed
        }
        #expect(seen["caisson-runtime"] == ["limit: 0", "67108864 50", "unlimit: 0", "unlimited max"])
        Self.expectSameAsRunc(seen)
    }

    /// `run` into an existing frozen cgroup is refused at once (it hung before: the
    /// process joined the frozen cgroup and never ran).
    @Test func frozenCgroupIsRefused() throws {
        let seen = try Self.compare { driver in
            let path = "/" + Scratch.uniqueID("parity-frozen")
            let hierarchies = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [])
                .map { "/sys/fs/cgroup/" + $0 }.filter { FileManager.default.fileExists(atPath: $0 + "/cgroup.procs") }
            for hierarchy in hierarchies { mkdir(hierarchy + path, 0o755) }
            let freezer = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/freezer/cgroup.procs")
                ? "/sys/fs/cgroup/freezer\(path)/freezer.state" : "/sys/fs/cgroup\(path)/cgroup.freeze"
            try (freezer.hasSuffix("freezer.state") ? "FROZEN" : "1").write(toFile: freezer, atomically: false, encoding: .utf8)
            defer {
                try? (freezer.hasSuffix("freezer.state") ? "THAWED" : "0").write(toFile: freezer, atomically: false, encoding: .utf8)
                for hierarchy in hierarchies { rmdir(hierarchy + path) }
            }
            var bundle = try BusyboxBundle(args: ["true"])
            bundle.spec.linux?.cgroupsPath = path
            try bundle.write()
            let id = Scratch.uniqueID("frozen")
            defer { driver.forceDelete(id) }
            let ran = try driver.run(["run", "--bundle", bundle.directory, id], timeout: 20)
            return ["run fails: \(ran.status != 0)", "mentions frozen: \(ran.stderr.contains("frozen"))"]
        }
        #expect(seen["caisson-runtime"] == ["run fails: true", "mentions frozen: true"])
        Self.expectSameAsRunc(seen)
    }

    /// A terminal process running as another user owns its pty (the tty group kept): it
    /// stayed root's before, so such a shell could not use job control or chown it.
    @Test func ptyBelongsToTheProcessUser() throws {
        let seen = try Self.compare { driver in
            var bundle = try BusyboxBundle(args: ["sh", "-c", "stat -c '%u %g' $(tty)"], terminal: true)
            bundle.spec.process?.user.uid = 1000
            bundle.spec.process?.user.gid = 1000
            try bundle.write()
            let id = Scratch.uniqueID("pty")
            defer { driver.forceDelete(id) }
            let command = "\(driver.executable) --root \(driver.root) run --bundle \(bundle.directory) \(id)"
            let ran = try Shell.run("/usr/bin/script", ["-qec", command, "/dev/null"], timeout: 30)
            // The terminal's output carries echoed control bytes and CR LF: take the two numbers.
            let owner = ran.stdout.firstMatch(of: /(\d+) (\d+)/).map { "\($0.1) \($0.2)" } ?? ""
            return ["status \(ran.status)", "pty owner \(owner)"]
        }
        #expect(seen["caisson-runtime"] == ["status 0", "pty owner 1000 5"])
        Self.expectSameAsRunc(seen)
    }
}

extension RuncParityTests {
    /// `out=$(... create --console-socket S ID)` returns at once: the container's process
    /// takes its terminal as stdio before waiting for `start` (it held the caller's pipe,
    /// so the shell waited until the container was started or deleted).
    @Test func createWithConsoleReturnsToACapturingCaller() throws {
        let seen = try Self.compare { driver in
            let bundle = try BusyboxBundle(args: ["echo", "started"], terminal: true)
            try bundle.write()
            let socketPath = try Scratch.directory("console") + "/console.sock"
            let listener = try ConsoleListener(path: socketPath)
            let id = Scratch.uniqueID("capture")
            defer { driver.forceDelete(id) }
            let create = "\(driver.executable) --root \(driver.root) create --console-socket \(socketPath) --bundle \(bundle.directory) \(id)"
            let ran: Shell.Result
            do {
                ran = try Shell.run("/bin/sh", ["-c", "out=$(\(create) 2>&1); echo \"status $? [$out]\""], timeout: 15)
            } catch {
                return ["create holds the caller's stdout"]
            }
            let master = try listener.acceptMaster()
            defer { close(master) }
            return [ran.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "state \(try driver.status(id))",
                    "start \(try driver.run(["start", id]).status)"]
        }
        #expect(seen["caisson-runtime"] == ["status 0 []", "state created", "start 0"])
        Self.expectSameAsRunc(seen)
    }

    /// exec's own failures exit 255 (a paused container, a missing cwd or program, an
    /// unknown container, no command); the process's own status passes through.
    @Test func execFailuresExitWith255() throws {
        let seen = try Self.compare { driver in
            let bundle = try BusyboxBundle(args: ["sleep", "100"])
            let id = try driver.runDetached(bundle, prefix: "exec255")
            defer { driver.forceDelete(id) }
            _ = try driver.run(["pause", id])
            let paused = try driver.run(["exec", id, "true"])
            _ = try driver.run(["resume", id])
            return [
                "paused \(paused.status) names it: \(paused.stderr.contains("paused container"))",
                "cwd \(try driver.run(["exec", "--cwd", "/nonexistent", id, "true"]).status)",
                "program \(try driver.run(["exec", id, "/nonexistent"]).status)",
                "container \(try driver.run(["exec", "nosuch-\(id)", "true"]).status)",
                "no command \(try driver.run(["exec", id]).status)",
                "no id \(try driver.run(["exec"]).status)",
                "process status \(try driver.run(["exec", id, "sh", "-c", "exit 7"]).status)",
            ]
        }
        #expect(seen["caisson-runtime"] == ["paused 255 names it: true", "cwd 255", "program 255", "container 255",
                                            "no command 255", "no id 1", "process status 7"])
        Self.expectSameAsRunc(seen)
    }

    /// `spec` writes runc's document (tab-indented; a cgroup namespace only on cgroup v2
    /// hosts; rootless as runc makes it), apart from ociVersion and hostname, which name
    /// the runtime that wrote it. A namespace listed twice is refused by both.
    @Test func specWritesRuncsDefaultDocument() throws {
        func document(_ driver: RuntimeDriver, _ flags: [String]) throws -> String {
            let directory = try Scratch.directory("spec")
            let ran = try Shell.run(driver.executable, ["spec", "--bundle", directory] + flags)
            guard ran.status == 0 else { return "spec failed: \(ran.stderr)" }
            return try String(contentsOfFile: directory + "/config.json", encoding: .utf8)
                .replacingOccurrences(of: #""ociVersion": "[^"]*""#, with: "\"ociVersion\": \"-\"", options: .regularExpression)
                .replacingOccurrences(of: #""hostname": "[^"]*""#, with: "\"hostname\": \"-\"", options: .regularExpression)
        }
        let seen = try Self.compare { driver in
            var bundle = try BusyboxBundle(args: ["true"])
            bundle.spec.linux?.namespaces?.append(Namespace(type: "uts"))
            try bundle.write()
            let id = Scratch.uniqueID("dupns")
            defer { driver.forceDelete(id) }
            let duplicate = try driver.run(["run", "--bundle", bundle.directory, id])
            return [try document(driver, []), try document(driver, ["--rootless"]), "duplicate ns refused: \(duplicate.status != 0)"]
        }
        let ours = seen["caisson-runtime"] ?? []
        #expect(ours.first?.contains("\t\"process\": {") == true)
        let unified = (try? CgroupLayout.detect())?.mode == .unified
        let written = try JSONSerialization.jsonObject(with: Data((ours.first ?? "").utf8)) as? [String: Any]
        let namespaces = ((written?["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        #expect(namespaces.contains("cgroup") == unified)
        #expect(ours.last == "duplicate ns refused: true")
        Self.expectSameAsRunc(seen)
    }

    /// Device cgroup rules as runc reads them: no type means "a", an "a" rule ignores its
    /// numbers, -1 is a wildcard, letters other than r, w, m are ignored, and only an
    /// empty access or an unknown type is refused. `exec -p` without a user runs as root.
    @Test func deviceRulesAndProcessDefaultsAsRuncReadsThem() throws {
        let rules: [DeviceCgroupRule] = [
            DeviceCgroupRule(allow: true, type: "a", major: 3, access: "r"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "x"),
            DeviceCgroupRule(allow: false, type: "c", major: -1, minor: -1, access: "rwm"),
            DeviceCgroupRule(allow: true, type: "", major: 1, minor: 3, access: "rw"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 5, access: "RWrr"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3),
            DeviceCgroupRule(allow: true, type: "u", major: 1, minor: 3, access: "rwm"),
        ]
        let seen = try Self.compare { driver in
            var observed: [String] = []
            for rule in rules {
                var bundle = try BusyboxBundle(args: ["true"])
                bundle.spec.linux?.resources?.devices?.append(rule)
                try bundle.write()
                let id = Scratch.uniqueID("devrule")
                defer { driver.forceDelete(id) }
                observed.append("\(rule.type ?? "-") \(rule.access ?? "-"): \(try driver.run(["run", "--bundle", bundle.directory, id]).status)")
            }
            let bundle = try BusyboxBundle(args: ["sleep", "100"])
            let id = try driver.runDetached(bundle, prefix: "nouser")
            defer { driver.forceDelete(id) }
            let process = try Scratch.directory("process") + "/process.json"
            try #"{"args": ["/bin/id"], "cwd": "/"}"#.write(toFile: process, atomically: true, encoding: .utf8)
            let ran = try driver.run(["exec", "-p", process, id])
            observed.append("exec -p without user: \(ran.status) \(ran.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
            return observed
        }
        #expect(seen["caisson-runtime"] == ["a r: 0", "c x: 0", "c rwm: 0", " rw: 0", "c RWrr: 0", "c -: 1", "u rwm: 1",
                                            "exec -p without user: 0 uid=0(root) gid=0(root)"])
        Self.expectSameAsRunc(seen)
    }
}

extension RuncParityTests {
    /// Recursive mount attributes (`rro`, `rnoexec`, ...) reach the mounts below a
    /// recursive bind too (caisson-runtime refused them as unsupported).
    @Test func recursiveMountAttributesReachSubmounts() throws {
        let host = try Scratch.directory("rro")
        try FileManager.default.createDirectory(atPath: host + "/sub", withIntermediateDirectories: true)
        #expect(try Shell.run("/bin/mount", ["-t", "tmpfs", "tmpfs", host + "/sub"]).status == 0)
        defer { _ = try? Shell.run("/bin/umount", ["-l", host + "/sub"]) }
        let seen = try Self.compare { driver in
            var bundle = try BusyboxBundle(args: ["sh", "-c", """
                touch /mnt/top 2>/dev/null && echo top-writable || echo top-readonly
                touch /mnt/sub/x 2>/dev/null && echo sub-writable || echo sub-readonly
                grep -c ' /mnt/sub .*noexec' /proc/self/mountinfo
                """])
            bundle.spec.mounts?.append(Mount(destination: "/mnt", type: "bind", source: host,
                                             options: ["rbind", "rro", "rnoexec"]))
            try bundle.write()
            let id = Scratch.uniqueID("rro")
            defer { driver.forceDelete(id) }
            let ran = try driver.run(["run", "--bundle", bundle.directory, id])
            return ["status \(ran.status)"] + ran.stdout.split(separator: "\n").map(String.init)
        }
        #expect(seen["caisson-runtime"] == ["status 0", "top-readonly", "sub-readonly", "1"])
        Self.expectSameAsRunc(seen)
    }
}

extension RuncParityTests {
    /// A read-only /dev (`"options": [..., "ro"]`): the mounts under it and the devices are
    /// made first, then /dev turns read-only (caisson-runtime failed making /dev/pts).
    @Test func readOnlyDevIsSetUpBeforeItsRemount() throws {
        let seen = try Self.compare { driver in
            var bundle = try BusyboxBundle(args: ["sh", "-c", """
                ls /dev | tr '\\n' ' '; echo
                touch /dev/x 2>/dev/null && echo writable || echo readonly
                echo data > /dev/null && echo null-works
                grep ' /dev ' /proc/self/mountinfo | cut -d' ' -f6
                """])
            if let index = bundle.spec.mounts?.firstIndex(where: { $0.destination == "/dev" }) {
                bundle.spec.mounts?[index].options?.append("ro")
            }
            try bundle.write()
            let id = Scratch.uniqueID("rodev")
            defer { driver.forceDelete(id) }
            let ran = try driver.run(["run", "--bundle", bundle.directory, id])
            return ["status \(ran.status)"] + ran.stdout.split(separator: "\n").map(String.init)
        }
        #expect(seen["caisson-runtime"]?.prefix(2) == ["status 0", "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero "])
        #expect(seen["caisson-runtime"]?.suffix(3) == ["readonly", "null-works", "ro,nosuid"])
        Self.expectSameAsRunc(seen)
    }
}

extension RuncParityTests {
    /// createContainer hooks start in the container's root directory (as runc runs them,
    /// in the container's mount namespace before pivot_root; they started in the bundle),
    /// and a failing hook is reported as `error running <kind> hook #N` with its status.
    @Test func createContainerHooksRunFromTheContainerRoot() throws {
        let seen = try Self.compare { driver in
            let scratch = try Scratch.directory("hooks")
            let hook = scratch + "/hook.sh"
            // Written by another process: a file this multithreaded process opened for
            // writing can be inherited by a child another test spawns meanwhile, and then
            // executing it fails with ETXTBSY.
            try Shell.run("/bin/sh", ["-c", "cat > \(hook) && chmod 0755 \(hook)"],
                          stdin: "#!/bin/sh\nls > \(scratch)/$1.seen\necho hook says no\nexit $2\n")
            var bundle = try BusyboxBundle(args: ["true"])
            try bundle.writeFile("/only-in-the-rootfs", "")
            var hooks = Hooks()
            hooks.createContainer = [Hook(path: hook, args: ["hook.sh", "ok", "0"]),
                                     Hook(path: hook, args: ["hook.sh", "failing", "3"])]
            bundle.spec.hooks = hooks
            try bundle.write()
            let id = Scratch.uniqueID("hookcwd")
            defer { driver.forceDelete(id) }
            let ran = try driver.run(["run", "--bundle", bundle.directory, id])
            let listing = (try? String(contentsOfFile: scratch + "/ok.seen", encoding: .utf8)) ?? ""
            return ["status \(ran.status)", "started in the root: \(listing.contains("only-in-the-rootfs"))",
                    "names the hook: \(ran.stderr.contains("error running") && ran.stderr.contains("hook #1"))",
                    "exit status: \(ran.stderr.contains("exit status 3"))", "output: \(ran.stderr.contains("hook says no"))"]
        }
        #expect(seen["caisson-runtime"] == ["status 1", "started in the root: true", "names the hook: true",
                                            "exit status: true", "output: true"])
        Self.expectSameAsRunc(seen)
    }
}

extension RuncParityTests {
    /// `--no-pivot` in a user namespace with CAP_SYS_ADMIN: which new proc and sysfs
    /// mounts the kernel lets the container make must be what runc's container may make,
    /// with and without pivot_root (caisson-runtime now hides the host's full proc and
    /// sysfs mounts before the chroot, as runc does).
    @Test func noPivotGivesNoMoreMountsThanRunc() throws {
        let seen = try Self.compare { driver in
            var observed: [String] = []
            for pivot in [["--no-pivot"], []] {
                var bundle = try BusyboxBundle(args: ["sh", "-c", """
                    mount -t sysfs none /mnt 2>/dev/null && echo sysfs-mounted || echo sysfs-refused
                    mount -t proc none /mnt 2>/dev/null && echo proc-mounted || echo proc-refused
                    """])
                try FileManager.default.createDirectory(atPath: bundle.rootfs + "/mnt", withIntermediateDirectories: true)
                bundle.spec.linux?.namespaces?.append(Namespace(type: "user"))
                bundle.spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
                bundle.spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
                bundle.spec.linux?.namespaces?.removeAll { $0.type == "cgroup" }
                bundle.spec.mounts?.removeAll { $0.destination.hasPrefix("/sys") }
                for set in [\Capabilities.bounding, \.effective, \.permitted] {
                    bundle.spec.process?.capabilities?[keyPath: set]?.append("CAP_SYS_ADMIN")
                }
                try bundle.write()
                let id = Scratch.uniqueID("nopivot")
                defer { driver.forceDelete(id) }
                let ran = try driver.run(["run"] + pivot + ["--bundle", bundle.directory, id])
                observed.append("\(pivot.first ?? "pivot"): \(ran.status) " + ran.stdout.split(separator: "\n").joined(separator: " "))
            }
            return observed
        }
        #expect(seen["caisson-runtime"] == ["--no-pivot: 0 sysfs-mounted proc-mounted", "pivot: 0 sysfs-refused proc-mounted"])
        Self.expectSameAsRunc(seen)
    }
}

extension RuncParityTests {
    /// In a user namespace, a bind mount whose source sits under a directory the
    /// container's root cannot enter (0700, host root's) still works: the runtime reaches
    /// the source with its own privileges (it failed with EACCES in the child).
    @Test func bindSourceUnreachableFromTheUserNamespace() throws {
        let hidden = try Scratch.directory("hidden")
        try FileManager.default.createDirectory(atPath: hidden + "/shared", withIntermediateDirectories: true)
        try "hello\n".write(toFile: hidden + "/shared/file", atomically: true, encoding: .utf8)
        chmod(hidden, 0o700)
        defer { try? FileManager.default.removeItem(atPath: hidden) }
        let seen = try Self.compare { driver in
            var bundle = try BusyboxBundle(args: ["sh", "-c", "cat /mnt/file; touch /mnt/x 2>/dev/null || echo read-only"])
            try FileManager.default.createDirectory(atPath: bundle.rootfs + "/mnt", withIntermediateDirectories: true)
            bundle.spec.linux?.namespaces?.append(Namespace(type: "user"))
            bundle.spec.linux?.namespaces?.removeAll { $0.type == "cgroup" }
            bundle.spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
            bundle.spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
            bundle.spec.mounts?.removeAll { $0.destination == "/sys/fs/cgroup" }
            bundle.spec.mounts?.append(Mount(destination: "/mnt", type: "bind", source: hidden + "/shared", options: ["rbind", "ro"]))
            try bundle.write()
            let id = Scratch.uniqueID("hiddenbind")
            defer { driver.forceDelete(id) }
            let ran = try driver.run(["run", "--bundle", bundle.directory, id])
            return ["status \(ran.status)"] + ran.stdout.split(separator: "\n").map(String.init)
        }
        #expect(seen["caisson-runtime"] == ["status 0", "hello", "read-only"])
        Self.expectSameAsRunc(seen)
    }
}
