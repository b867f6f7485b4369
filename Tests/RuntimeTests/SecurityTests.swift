import Foundation
import Testing
import OCISpec

/// Capabilities, users, no_new_privs, seccomp, rlimits and the runtime's own defences.
@Suite(.timeLimit(.minutes(2))) struct SecurityTests {
    func run(_ bundle: BusyboxBundle, _ driver: RuntimeDriver) throws -> Shell.Result {
        try bundle.write()
        let id = Scratch.uniqueID("sec")
        let result = try driver.run(["run", "--bundle", bundle.directory, id])
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
        return result
    }

    func field(_ name: String, in status: String) -> String? {
        status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    @Test func capabilitiesAreExactlyTheConfiguredSets() throws {
        // For root, exec makes effective = permitted = bounding; check the bounding set.
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["cat", "/proc/self/status"])
        bundle.spec.process?.capabilities = Capabilities(bounding: ["CAP_CHOWN", "CAP_KILL"], effective: ["CAP_CHOWN"],
                                                         inheritable: [], permitted: ["CAP_CHOWN", "CAP_KILL"], ambient: [])
        let result = try run(bundle, driver)
        #expect(field("CapBnd", in: result.stdout) == "0000000000000021")
        #expect(field("CapPrm", in: result.stdout) == "0000000000000021")

        // A non-root user keeps exactly its ambient capabilities across exec.
        bundle.spec.process?.user = User(uid: 1000, gid: 1000)
        bundle.spec.process?.capabilities = Capabilities(bounding: ["CAP_CHOWN", "CAP_KILL"], effective: ["CAP_CHOWN"],
                                                         inheritable: ["CAP_CHOWN"], permitted: ["CAP_CHOWN", "CAP_KILL"],
                                                         ambient: ["CAP_CHOWN"])
        let user = try run(bundle, driver)
        #expect(field("CapEff", in: user.stdout) == "0000000000000001")
        #expect(field("CapAmb", in: user.stdout) == "0000000000000001")
        #expect(field("CapBnd", in: user.stdout) == "0000000000000021")
    }

    @Test func userAndGroupsAreSwitched() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "id -u; id -g; id -G; umask"])
        bundle.spec.process?.user = User(uid: 1000, gid: 1001, umask: 0o027, additionalGids: [2000, 2001])
        let result = try run(bundle, driver)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines == ["1000", "1001", "1001 2000 2001", "0027"])
    }

    @Test func noNewPrivilegesIsSet() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["cat", "/proc/self/status"])
        bundle.spec.process?.noNewPrivileges = true
        #expect(field("NoNewPrivs", in: try run(bundle, driver).stdout) == "1")
        bundle.spec.process?.noNewPrivileges = false
        #expect(field("NoNewPrivs", in: try run(bundle, driver).stdout) == "0")
    }

    @Test func seccompRuleReturnsEPERM() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "mkdir /tmp/blocked; echo status=$?; grep Seccomp: /proc/self/status"])
        var profile = Seccomp(defaultAction: "SCMP_ACT_ALLOW")
        profile.architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
        profile.syscalls = [SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1)]
        bundle.spec.linux?.seccomp = profile
        let result = try run(bundle, driver)
        #expect(result.stdout.contains("status=1"))
        #expect(result.stderr.contains("Operation not permitted"))
        #expect(result.stdout.contains("Seccomp:\t2"))
    }

    @Test func seccompArgumentConditionsAreHonoured() throws {
        // Deny personality(0xffffffff) only: a query with another value still works.
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "chmod 700 /tmp && echo chmod700-ok; chmod 777 /tmp || echo chmod777-denied"])
        var profile = Seccomp(defaultAction: "SCMP_ACT_ALLOW")
        profile.syscalls = [SeccompSyscall(names: ["chmod", "fchmodat"], action: "SCMP_ACT_ERRNO", errnoRet: 13,
                                           args: [SeccompArg(index: 1, value: 0o777, valueTwo: nil, op: "SCMP_CMP_EQ"),
                                                  ])]
        profile.syscalls?.append(SeccompSyscall(names: ["fchmodat"], action: "SCMP_ACT_ERRNO", errnoRet: 13,
                                                args: [SeccompArg(index: 2, value: 0o777, valueTwo: nil, op: "SCMP_CMP_EQ")]))
        bundle.spec.linux?.seccomp = profile
        let result = try run(bundle, driver)
        #expect(result.stdout.contains("chmod700-ok"))
        #expect(result.stdout.contains("chmod777-denied"))
    }

    @Test func rlimitsApplyAndAnImpossibleOneFailsClearly() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "ulimit -n; ulimit -Hn"])
        bundle.spec.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 2048, soft: 512)]
        #expect(try run(bundle, driver).stdout == "512\n2048\n")

        // This host lacks CAP_SYS_RESOURCE: a hard limit above the current one is refused.
        bundle.spec.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: hardOpenFilesLimit() + 1, soft: 1024)]
        try bundle.write()
        let id = Scratch.uniqueID("rlimit")
        let result = try driver.run(["run", "--bundle", bundle.directory, id])
        if geteuid() == 0 && hasCapability(24 /* CAP_SYS_RESOURCE */) {
            #expect(result.status == 0)
        } else {
            #expect(result.status != 0)
            #expect(result.stderr.contains("RLIMIT_NOFILE"))
            #expect(result.stderr.contains("CAP_SYS_RESOURCE"))
        }
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }

    @Test func oomScoreAdjIsSetOrClampedWithAWarning() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["cat", "/proc/self/oom_score_adj"])
        bundle.spec.process?.oomScoreAdj = 500
        #expect(try run(bundle, driver).stdout == "500\n")
        let own = Int((try String(contentsOfFile: "/proc/self/oom_score_adj", encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        bundle.spec.process?.oomScoreAdj = -1000
        let lowered = try run(bundle, driver)
        #expect(lowered.status == 0)
        let value = Int(lowered.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1
        #expect(value == -1000 || value == own)
        if value != -1000 { #expect(lowered.stderr.contains("clamped")) }
    }

    @Test func shebangToProcSelfExeNeverReachesTheHostBinary() throws {
        // CVE-2019-5736: the container tries to run (and later write) the runtime binary.
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["/evil"])
        try bundle.writeFile("/evil", "#!/proc/self/exe\n", mode: 0o755)
        bundle.spec.process?.args = ["/evil"]
        let before = try Data(contentsOf: URL(fileURLWithPath: RuntimeDriver.binary))
        let result = try run(bundle, driver)
        #expect(result.status == 127)
        let after = try Data(contentsOf: URL(fileURLWithPath: RuntimeDriver.binary))
        #expect(before == after)
    }

    @Test func noHostDescriptorLeaksIntoTheContainer() throws {
        // CVE-2024-21626: only stdio reaches the process.
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '; readlink /proc/self/cwd"])
        let result = try run(bundle, driver)
        // 0 1 2, plus the descriptor ls itself holds on the directory it lists (3).
        #expect(result.stdout.hasPrefix("0 1 2 3 /"), "\(result.status) \(result.stderr)")
    }

    @Test func preservedDescriptorsArePassedThrough() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "cat <&3"])
        try bundle.write()
        let id = Scratch.uniqueID("fds")
        let file = bundle.directory + "/input"
        try "passed along\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try Shell.run("/bin/sh", ["-c", "exec 3<\(file); exec \(RuntimeDriver.binary) --root \(driver.root) run --preserve-fds 1 --bundle \(bundle.directory) \(id)"])
        #expect(result.stdout == "passed along\n")
    }
}


/// SCMP_ACT_NOTIFY: the listener fd goes to linux.seccomp.listenerPath with the
/// container process state; when the agent closes it, the trapped call fails (ENOSYS).
@Suite(.timeLimit(.minutes(2))) struct SeccompNotifyTests {
    @Test func listenerReceivesTheNotificationDescriptorAndState() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "mkdir /tmp/watched; echo status=$?"])
        let socketPath = try Scratch.directory("seccomp") + "/agent.sock"
        let listener = try ConsoleListener(path: socketPath)
        var profile = Seccomp(defaultAction: "SCMP_ACT_ALLOW")
        profile.listenerPath = socketPath
        profile.listenerMetadata = "test-metadata"
        profile.syscalls = [SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY")]
        bundle.spec.linux?.seccomp = profile
        try bundle.write()
        let id = Scratch.uniqueID("notify")
        let create = try driver.run(["create", "--bundle", bundle.directory, id])
        #expect(create.status == 0, "\(create.stderr)")
        let (fd, message) = try listener.acceptDescriptor()
        let state = try JSONSerialization.jsonObject(with: Data(message.utf8)) as? [String: Any] ?? [:]
        #expect(state["fds"] as? [String] == ["seccompFd"])
        #expect(state["metadata"] as? String == "test-metadata")
        #expect((state["state"] as? [String: Any])?["id"] as? String == id)
        #expect(state["pid"] as? Int == (try driver.state(id)["pid"] as? Int))
        // The agent gives up: the trapped mkdir now fails instead of hanging.
        close(fd)
        #expect(try driver.run(["start", id]).status == 0)
        for _ in 0..<300 where try driver.status(id) != "stopped" { usleep(10_000) }
        #expect(try driver.status(id) == "stopped")
        #expect(try driver.run(["delete", id]).status == 0)
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }
}

/// The hard RLIMIT_NOFILE of this process, from /proc/self/limits.
func hardOpenFilesLimit() -> UInt64 {
    let limits = (try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8)) ?? ""
    let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
    let fields = line.split(separator: " ")
    return fields.count >= 5 ? UInt64(fields[4]) ?? 1_048_576 : 1_048_576
}

/// Whether this test process holds a capability in its effective set.
func hasCapability(_ number: Int) -> Bool {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
          let mask = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
    return mask & (1 << UInt64(number)) != 0
}
