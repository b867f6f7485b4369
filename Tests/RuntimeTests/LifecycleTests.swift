import Foundation
import Testing
import OCISpec

/// create, start, state, kill, delete and run, driven through the real binary.
@Suite(.timeLimit(.minutes(2))) struct LifecycleTests {
    @Test func runPrintsOutputAndReturnsExitCode() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "echo hello from $(hostname); exit 3"])
        try bundle.write()
        let id = Scratch.uniqueID("run")
        let result = try driver.run(["run", "--bundle", bundle.directory, id])
        #expect(result.status == 3)
        #expect(result.stdout == "hello from caisson\n")
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func runReportsDeathBySignalAs128PlusN() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        try bundle.write()
        let id = Scratch.uniqueID("sig")
        let runner = Foundation.Process()
        runner.executableURL = URL(fileURLWithPath: RuntimeDriver.binary)
        runner.arguments = ["--root", driver.root, "run", "--bundle", bundle.directory, id]
        try runner.run()
        var status = ""
        for _ in 0..<500 {
            status = try driver.status(id)
            if status == "running" { break }
            usleep(10_000)
        }
        #expect(status == "running")
        #expect(try driver.run(["kill", id, "KILL"]).status == 0)
        runner.waitUntilExit()
        #expect(runner.terminationStatus == 137)
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func runForwardsSignalsToTheContainer() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.05; done"])
        try bundle.write()
        let id = Scratch.uniqueID("fwd")
        let runner = Foundation.Process()
        runner.executableURL = URL(fileURLWithPath: RuntimeDriver.binary)
        runner.arguments = ["--root", driver.root, "run", "--bundle", bundle.directory, id]
        try runner.run()
        for _ in 0..<500 where try driver.status(id) != "running" { usleep(10_000) }
        usleep(200_000)
        kill(runner.processIdentifier, SIGTERM)
        runner.waitUntilExit()
        #expect(runner.terminationStatus == 42)
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func createStartKillDeleteWalksTheStates() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        try bundle.write()
        let id = Scratch.uniqueID("life")
        let pidFile = bundle.directory + "/pid"
        let create = try driver.run(["create", "--bundle", bundle.directory, "--pid-file", pidFile, id])
        #expect(create.status == 0, "\(create.stderr)")
        let state = try driver.state(id)
        #expect(state["status"] as? String == "created")
        #expect(state["id"] as? String == id)
        #expect(state["bundle"] as? String == bundle.directory)
        let pid = state["pid"] as? Int ?? 0
        #expect(pid > 0)
        #expect(try String(contentsOfFile: pidFile, encoding: .utf8) == String(pid))
        // Nothing runs before start: the init waits on exec.fifo.
        let comm = try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
        #expect(!comm.hasPrefix("sleep"))

        #expect(try driver.run(["start", id]).status == 0)
        #expect(try driver.status(id) == "running")
        let startedComm = try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
        #expect(startedComm == "sleep\n")
        // A second start is refused.
        let again = try driver.run(["start", id])
        #expect(again.status != 0)
        #expect(again.stderr.contains("running"))
        // delete without --force refuses a running container.
        let refused = try driver.run(["delete", id])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("not stopped"))

        #expect(try driver.run(["kill", id, "KILL"]).status == 0)
        var status = ""
        for _ in 0..<200 {
            status = try driver.status(id)
            if status == "stopped" { break }
            usleep(10_000)
        }
        #expect(status == "stopped")
        #expect(try driver.run(["delete", id]).status == 0)
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
        #expect(try driver.run(["state", id]).status != 0)
    }

    @Test func deleteForceRemovesARunningContainer() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        try bundle.write()
        let id = Scratch.uniqueID("force")
        #expect(try driver.run(["run", "-d", "--bundle", bundle.directory, id]).status == 0)
        #expect(try driver.status(id) == "running")
        let pid = try driver.state(id)["pid"] as? Int ?? 0
        #expect(try driver.run(["delete", "--force", id]).status == 0)
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        #expect(stat.isEmpty || stat.contains(") Z"))
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    /// A create killed after the container process and cgroup exist but before state.json
    /// was written (here: the state file taken away from a created container). delete
    /// refused it as unknown and left the cgroup, the process and the directory.
    @Test func deleteCleansUpACreateThatDiedBeforeSavingItsState() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        try bundle.write()
        let id = Scratch.uniqueID("abandoned")
        #expect(try driver.run(["create", "--bundle", bundle.directory, id]).status == 0)
        let pid = try driver.state(id)["pid"] as? Int ?? 0
        try FileManager.default.removeItem(atPath: driver.root + "/" + id + "/state.json")
        #expect(try driver.run(["state", id]).status != 0)
        let deleted = try driver.run(["delete", "--force", id])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        #expect(stat.isEmpty || stat.contains(") Z"))
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: driver.root + "/" + id))
        // An id that never existed is still an error without --force (and ignored with it, as by runc).
        #expect(try driver.run(["delete", Scratch.uniqueID("never")]).status != 0)
        #expect(try driver.run(["delete", "--force", Scratch.uniqueID("never")]).status == 0)
    }

    @Test func pauseAndResumeFreezeTheContainer() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        try bundle.write()
        let id = Scratch.uniqueID("pause")
        #expect(try driver.run(["run", "-d", "--bundle", bundle.directory, id]).status == 0)
        #expect(try driver.run(["pause", id]).status == 0)
        #expect(try driver.status(id) == "paused")
        let pid = try driver.state(id)["pid"] as? Int ?? 0
        let stat = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(stat.contains("State:\tD") || stat.contains("State:\tS") || stat.contains("State:\tT"))
        #expect(try driver.run(["resume", id]).status == 0)
        #expect(try driver.status(id) == "running")
        #expect(try driver.run(["delete", "-f", id]).status == 0)
        #expect(driver.leftovers(id: id).isEmpty)
    }

    @Test func listAndPsShowTheContainer() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "sleep 100 & sleep 100"])
        let id = try driver.runDetached(bundle, prefix: "list")
        defer { driver.forceDelete(id) }
        let table = try driver.run(["list"])
        #expect(table.stdout.hasPrefix("ID"))
        #expect(table.stdout.contains(id))
        #expect(table.stdout.contains("running"))
        let json = try driver.run(["list", "--format", "json"])
        let entries = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(entries.first?["id"] as? String == id)
        #expect(try driver.run(["list", "-q"]).stdout == id + "\n")
        var pids: [Int] = []
        for _ in 0..<100 {
            let ps = try driver.run(["ps", "--format", "json", id])
            pids = try JSONSerialization.jsonObject(with: Data(ps.stdout.utf8)) as? [Int] ?? []
            if pids.count >= 2 { break }
            usleep(10_000)
        }
        #expect(pids.count == 2)
        let psTable = try driver.run(["ps", id])
        #expect(psTable.stdout.contains("sleep 100"))
    }

    @Test func killAllSignalsEveryProcess() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "sleep 100 & sleep 100 & wait"])
        try bundle.write()
        let id = Scratch.uniqueID("killall")
        #expect(try driver.run(["run", "-d", "--bundle", bundle.directory, id]).status == 0)
        #expect(try driver.run(["kill", "--all", id, "SIGKILL"]).status == 0)
        var status = ""
        for _ in 0..<200 {
            status = try driver.status(id)
            if status == "stopped" { break }
            usleep(10_000)
        }
        #expect(status == "stopped")
        #expect(try driver.run(["delete", id]).status == 0)
        #expect(driver.leftovers(id: id).isEmpty)
    }

    @Test func noPivotAndKeep() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "ls /bin/busybox"])
        try bundle.write()
        let moved = Scratch.uniqueID("nopivot")
        let result = try driver.run(["run", "--no-pivot", "--bundle", bundle.directory, moved])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "/bin/busybox\n")
        #expect(driver.leftovers(id: moved, bundle: bundle).isEmpty)

        // --keep: the stopped container stays until delete.
        let kept = Scratch.uniqueID("keep")
        #expect(try driver.run(["run", "--keep", "--bundle", bundle.directory, kept]).status == 0)
        #expect(try driver.status(kept) == "stopped")
        #expect(try driver.run(["delete", kept]).status == 0)
        #expect(driver.leftovers(id: kept, bundle: bundle).isEmpty)
    }

    @Test func specWritesARuncStyleDefault() throws {
        let directory = try Scratch.directory("spec")
        let driver = try RuntimeDriver()
        #expect(try driver.run(["spec", "--bundle", directory]).status == 0)
        let spec = try JSONDecoder().decode(Spec.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/config.json")))
        #expect(spec.process?.args == ["sh"])
        #expect(spec.root?.path == "rootfs")
        #expect(spec.linux?.namespaces?.map(\.type).contains("mount") == true)
        // A second spec refuses to overwrite.
        #expect(try driver.run(["spec", "--bundle", directory]).status != 0)
    }

    @Test func featuresDescribeTheRuntime() throws {
        let driver = try RuntimeDriver()
        let result = try driver.run(["features"])
        let features = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(features["ociVersionMax"] as? String == Spec.version)
        let linux = features["linux"] as? [String: Any] ?? [:]
        let cgroup = linux["cgroup"] as? [String: Any] ?? [:]
        #expect(cgroup["v1"] as? Bool == true)
        #expect((linux["namespaces"] as? [String])?.contains("time") == true)
    }
}
