import Foundation
import Testing
import OCISpec

/// Bad input gets one clear line, a non-zero exit, and leaves nothing behind.
@Suite(.timeLimit(.minutes(2))) struct BadInputTests {
    func expectCleanFailure(_ result: Shell.Result, mentions: [String], driver: RuntimeDriver, id: String,
                            bundle: BusyboxBundle? = nil) {
        #expect(result.status != 0)
        for text in mentions { #expect(result.stderr.contains(text), "stderr \(result.stderr) lacks \(text)") }
        #expect(result.stderr.split(separator: "\n").count == 1, "expected one line: \(result.stderr)")
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func malformedJSONNamesTheFile() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["true"])
        try "{ not json".write(toFile: bundle.directory + "/config.json", atomically: true, encoding: .utf8)
        let id = Scratch.uniqueID("bad")
        let result = try driver.run(["create", "--bundle", bundle.directory, id])
        expectCleanFailure(result, mentions: ["config.json", "not valid JSON"], driver: driver, id: id, bundle: bundle)
    }

    @Test func wrongTypeNamesTheField() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["true"])
        try bundle.write()
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle.directory + "/config.json"))) as! [String: Any]
        var process = json["process"] as! [String: Any]
        process["args"] = "not-an-array"
        json["process"] = process
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: bundle.directory + "/config.json"))
        let id = Scratch.uniqueID("bad")
        let result = try driver.run(["create", "--bundle", bundle.directory, id])
        expectCleanFailure(result, mentions: ["process.args", "expected an array"], driver: driver, id: id, bundle: bundle)
    }

    @Test func inconsistentConfigsAreRefused() throws {
        let driver = try RuntimeDriver()
        let cases: [(String, (inout Spec) -> Void)] = [
            ("process.cwd", { $0.process?.cwd = "relative" }),
            ("unknown capability", { $0.process?.capabilities?.bounding = ["CAP_NOT_A_THING"] }),
            ("unknown rlimit", { $0.process?.rlimits = [Rlimit(type: "RLIMIT_BOGUS", hard: 1, soft: 1)] }),
            ("listed twice", { $0.linux?.namespaces?.append(Namespace(type: "pid")) }),
            ("UTS namespace", { $0.linux?.namespaces?.removeAll { $0.type == "uts" } }),
            ("uidMappings", { $0.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)] }),
            ("root.path", { $0.root?.path = "no-such-rootfs" }),
            ("defaultAction", { $0.linux?.seccomp = Seccomp(defaultAction: "SCMP_ACT_EXPLODE") }),
            ("process.args", { $0.process?.args = [] }),
        ]
        for (mention, mutate) in cases {
            var bundle = try BusyboxBundle(args: ["true"])
            mutate(&bundle.spec)
            try bundle.write()
            let id = Scratch.uniqueID("bad")
            let result = try driver.run(["create", "--bundle", bundle.directory, id])
            expectCleanFailure(result, mentions: [mention], driver: driver, id: id, bundle: bundle)
        }
    }

    @Test func missingBundleDuplicateIDAndBadIDs() throws {
        let driver = try RuntimeDriver()
        let id = Scratch.uniqueID("bad")
        let missing = try driver.run(["create", "--bundle", "/nonexistent/bundle", id])
        expectCleanFailure(missing, mentions: ["/nonexistent/bundle"], driver: driver, id: id)

        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        try bundle.write()
        #expect(try driver.run(["create", "--bundle", bundle.directory, id]).status == 0)
        let duplicate = try driver.run(["create", "--bundle", bundle.directory, id])
        #expect(duplicate.status != 0)
        #expect(duplicate.stderr.contains("already exists"))
        #expect(try driver.status(id) == "created")
        #expect(try driver.run(["delete", id]).status == 0)
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)

        let traversal = try driver.run(["create", "--bundle", bundle.directory, "../escape"])
        #expect(traversal.status != 0)
        #expect(traversal.stderr.contains("invalid container id"))
    }

    @Test func unknownSignalAndUnknownContainer() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sleep", "100"])
        let id = try driver.runDetached(bundle, prefix: "sig")
        defer { driver.forceDelete(id) }
        let bad = try driver.run(["kill", id, "SIGNOPE"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("unknown signal \"SIGNOPE\""))
        #expect(try driver.status(id) == "running")
        let missing = try driver.run(["kill", "no-such-container", "KILL"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("does not exist"))
    }

    @Test func badFlagsAreRefused() throws {
        let driver = try RuntimeDriver()
        for arguments in [["create", "--no-such-flag", "x"], ["frobnicate"], ["--systemd-cgroup", "list"],
                          ["run", "--preserve-fds", "many", "x"], ["checkpoint", "x"], ["--rootless", "true", "list"]] {
            let result = try driver.run(arguments)
            #expect(result.status != 0)
            #expect(!result.stderr.isEmpty)
        }
    }

    @Test func aFailureInsideTheContainerSetupLeavesNothing() throws {
        // A bind mount whose source is missing fails inside the init process.
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["true"])
        bundle.spec.mounts?.append(Mount(destination: "/data", type: "bind", source: "/nonexistent/source", options: ["bind"]))
        try bundle.write()
        let id = Scratch.uniqueID("initfail")
        let result = try driver.run(["create", "--bundle", bundle.directory, id])
        expectCleanFailure(result, mentions: ["/nonexistent/source"], driver: driver, id: id, bundle: bundle)
    }
}
