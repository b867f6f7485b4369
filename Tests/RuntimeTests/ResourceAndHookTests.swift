import Foundation
import Testing
import OCISpec

/// cgroup limits really apply, and hooks really run with the state on stdin.
@Suite(.timeLimit(.minutes(2))) struct ResourceTests {
    @Test func memoryPidsAndCpuLimitsReachTheCgroup() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares"])
        var resources = bundle.spec.linux?.resources ?? Resources()
        var memory = Resources.Memory()
        memory.limit = 64 * 1024 * 1024
        resources.memory = memory
        resources.pids = Resources.Pids(limit: 32)
        var cpu = Resources.CPU()
        cpu.quota = 50_000
        cpu.period = 100_000
        cpu.shares = 512
        resources.cpu = cpu
        bundle.spec.linux?.resources = resources
        try bundle.write()
        let id = Scratch.uniqueID("limits")
        let result = try driver.run(["run", "--bundle", bundle.directory, id])
        #expect(result.stdout == "67108864\n32\n50000\n512\n", "\(result.stderr)")
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func pidsLimitStopsForks() throws {
        // The subshell forks sleeps until the limit refuses; the count is read with a
        // shell builtin, which needs no fork of its own.
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "(i=0; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); done); read n < /sys/fs/cgroup/pids/pids.current; echo $n"])
        var resources = bundle.spec.linux?.resources ?? Resources()
        resources.pids = Resources.Pids(limit: 6)
        bundle.spec.linux?.resources = resources
        try bundle.write()
        let id = Scratch.uniqueID("pids")
        let result = try driver.run(["run", "--bundle", bundle.directory, id])
        let count = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 99
        #expect(count <= 6)
        #expect(result.stderr.contains("fork"))
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func memoryLimitKillsAProcessThatExceedsIt() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "head -c 64m /dev/zero | tail -c 1 > /dev/null; X=$(head -c 40000000 /dev/zero | tr '\\0' a); echo survived"])
        var resources = bundle.spec.linux?.resources ?? Resources()
        var memory = Resources.Memory()
        memory.limit = 16 * 1024 * 1024
        memory.swap = 16 * 1024 * 1024
        resources.memory = memory
        bundle.spec.linux?.resources = resources
        try bundle.write()
        let id = Scratch.uniqueID("oom")
        let result = try driver.run(["run", "--bundle", bundle.directory, id])
        #expect(!result.stdout.contains("survived"))
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func deviceRulesDenyUnlistedDevices() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "mknod /tmp/mem c 1 1 && (head -c 1 /tmp/mem >/dev/null 2>&1 && echo MEM-READ || echo MEM-DENIED); head -c 1 /dev/urandom | wc -c"])
        bundle.spec.process?.capabilities = nil
        let result = try { () throws -> Shell.Result in
            try bundle.write()
            let id = Scratch.uniqueID("dev")
            defer { #expect(driver.leftovers(id: id, bundle: bundle).isEmpty) }
            return try driver.run(["run", "--bundle", bundle.directory, id])
        }()
        #expect(result.stdout.contains("MEM-DENIED"))
        #expect(result.stdout.contains("1"))
    }

    @Test func updateChangesLimitsOfARunningContainer() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        let id = try driver.runDetached(bundle, prefix: "update")
        defer { driver.forceDelete(id) }
        #expect(try driver.run(["update", "--memory", "48m", "--pids-limit", "20", id]).status == 0)
        let memory = try String(contentsOfFile: "/sys/fs/cgroup/memory/\(id)/memory.limit_in_bytes", encoding: .utf8)
        #expect(memory == "50331648\n")
        let pids = try String(contentsOfFile: "/sys/fs/cgroup/pids/\(id)/pids.max", encoding: .utf8)
        #expect(pids == "20\n")
        let stats = try driver.run(["events", "--stats", id])
        let event = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(event["type"] as? String == "stats")
        let data = event["data"] as? [String: Any] ?? [:]
        let memoryStats = (data["memory"] as? [String: Any])?["usage"] as? [String: Any] ?? [:]
        #expect(memoryStats["limit"] as? Int == 50331648)
    }
}

@Suite(.timeLimit(.minutes(2))) struct HookTests {
    @Test func everyHookKindRunsWithTheState() throws {
        let driver = try RuntimeDriver()
        let log = try Scratch.directory("hooks")
        var bundle = try BusyboxBundle(args: ["true"])
        func hook(_ name: String) -> Hook {
            Hook(path: "/bin/sh", args: ["sh", "-c", "cat > \(log)/\(name).json"], env: ["PATH=/bin:/usr/bin"])
        }
        var hooks = Hooks()
        hooks.prestart = [hook("prestart")]
        hooks.createRuntime = [hook("createRuntime")]
        hooks.poststart = [hook("poststart")]
        hooks.poststop = [hook("poststop")]
        // createContainer runs in the container's namespaces before pivot_root (host paths
        // still resolve); startContainer runs inside the container, so it writes there.
        hooks.createContainer = [Hook(path: "/bin/sh", args: ["sh", "-c", "cat > \(log)/createContainer.json"])]
        hooks.startContainer = [Hook(path: "/bin/sh", args: ["sh", "-c", "cat > /tmp/startContainer.json"])]
        bundle.spec.hooks = hooks
        try bundle.write()
        let id = Scratch.uniqueID("hooks")
        let result = try driver.run(["run", "--bundle", bundle.directory, id])
        #expect(result.status == 0, "\(result.stderr)")
        try FileManager.default.moveItem(atPath: bundle.rootfs + "/tmp/startContainer.json", toPath: log + "/startContainer.json")
        for name in ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] {
            let text = (try? String(contentsOfFile: "\(log)/\(name).json", encoding: .utf8)) ?? ""
            let state = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            #expect(state["id"] as? String == id, "\(name) hook did not receive the state")
            #expect(state["bundle"] as? String == bundle.directory)
        }
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func aFailingCreateRuntimeHookFailsCreateAndLeavesNothing() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["true"])
        var hooks = Hooks()
        hooks.createRuntime = [Hook(path: "/bin/sh", args: ["sh", "-c", "echo hook says no; exit 7"])]
        bundle.spec.hooks = hooks
        try bundle.write()
        let id = Scratch.uniqueID("hookfail")
        let result = try driver.run(["create", "--bundle", bundle.directory, id])
        #expect(result.status != 0)
        #expect(result.stderr.contains("createRuntime hook"))
        #expect(result.stderr.contains("hook says no"))
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func aHookThatOutlivesItsTimeoutIsKilled() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["true"])
        var hooks = Hooks()
        hooks.prestart = [Hook(path: "/bin/sleep", args: ["sleep", "30"], timeout: 1)]
        bundle.spec.hooks = hooks
        try bundle.write()
        let id = Scratch.uniqueID("hooktime")
        let started = Date()
        let result = try driver.run(["run", "--bundle", bundle.directory, id])
        #expect(result.status != 0)
        #expect(result.stderr.contains("timed out"))
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }
}
