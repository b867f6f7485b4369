import Foundation
import Testing
import OCISpec

/// Namespaces, mounts and the root filesystem really separate the container.
@Suite(.timeLimit(.minutes(2))) struct IsolationTests {
    func output(_ bundle: BusyboxBundle, _ driver: RuntimeDriver) throws -> Shell.Result {
        try bundle.write()
        let id = Scratch.uniqueID("iso")
        let result = try driver.run(["run", "--bundle", bundle.directory, id])
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
        return result
    }

    @Test func namespacesSeparatePidsHostnameAndNetwork() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "echo pid=$$; hostname; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; ls /proc | grep -c '^[0-9]'"])
        bundle.spec.hostname = "isolated"
        let result = try output(bundle, driver)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "pid=1")
        #expect(lines.contains("isolated"))
        #expect(lines.contains("lo"))
        #expect(!lines.contains("eth0"))
        // Only the shell and its pipeline are visible in the pid namespace.
        #expect(Int(lines.last ?? "") ?? 99 < 8)
    }

    @Test func rootIsTheBundleRootfsAndHostIsInvisible() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "ls /; test -e /work && echo HOST-VISIBLE; cat /proc/self/mountinfo | wc -l"])
        try bundle.writeFile("/marker", "inside")
        let result = try output(bundle, driver)
        #expect(result.stdout.contains("marker"))
        #expect(!result.stdout.contains("HOST-VISIBLE"))
    }

    @Test func readonlyRootRefusesWrites() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "touch /newfile && echo WROTE; touch /tmp/x 2>&1; echo done"])
        bundle.spec.root?.readonly = true
        let result = try output(bundle, driver)
        #expect(!result.stdout.contains("WROTE"))
        #expect(result.stdout.contains("done"))
    }

    @Test func bindMountsAndTmpfsAppearWithTheirOptions() throws {
        let driver = try RuntimeDriver()
        let shared = try Scratch.directory("shared")
        try "from host".write(toFile: shared + "/file", atomically: true, encoding: .utf8)
        var bundle = try BusyboxBundle(args: ["sh", "-c", "cat /data/file; echo x > /data/new 2>/dev/null || echo READONLY; grep ' /scratch ' /proc/mounts"])
        bundle.spec.mounts?.append(Mount(destination: "/data", type: "bind", source: shared, options: ["rbind", "ro"]))
        bundle.spec.mounts?.append(Mount(destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["size=1m", "noexec"]))
        let result = try output(bundle, driver)
        #expect(result.stdout.contains("from host"))
        #expect(result.stdout.contains("READONLY"))
        #expect(result.stdout.contains("tmpfs /scratch tmpfs"))
        #expect(result.stdout.contains("noexec"))
    }

    @Test func mountDestinationSymlinksStayInsideTheRootfs() throws {
        // The image plants /escape -> /../../../../tmp/<victim>; the mount must land inside.
        let driver = try RuntimeDriver()
        let victim = try Scratch.directory("victim")
        var bundle = try BusyboxBundle(args: ["sh", "-c", "grep -c ' /escape-target ' /proc/mounts"])
        try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/escape",
                                                   withDestinationPath: "../../../../../.." + victim)
        bundle.spec.mounts?.append(Mount(destination: "/escape/inner", type: "tmpfs", source: "tmpfs", options: []))
        let result = try output(bundle, driver)
        #expect(result.status == 1 || result.status == 0)
        // Nothing was created or mounted in the host directory the link pointed at.
        #expect((try FileManager.default.contentsOfDirectory(atPath: victim)).isEmpty)
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(victim))
    }

    @Test func devHasTheStandardNodes() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "ls /dev; echo x > /dev/null && echo NULL-OK; head -c 4 /dev/zero | wc -c; readlink /dev/fd"])
        let result = try output(bundle, driver)
        for node in ["null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue", "ptmx"] {
            #expect(result.stdout.contains(node), "missing /dev/\(node)")
        }
        #expect(result.stdout.contains("NULL-OK"))
        #expect(result.stdout.contains("/proc/self/fd"))
    }

    @Test func maskedPathsReadEmptyAndReadonlyPathsRefuseWrites() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "wc -c < /etc/secret; ls /etc/secretdir | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo RO-SYS"])
        try bundle.writeFile("/etc/secret", "classified")
        try bundle.writeFile("/etc/secretdir/inner", "classified")
        let masked = (bundle.spec.linux?.maskedPaths ?? []) + ["/etc/secret", "/etc/secretdir"]
        bundle.spec.linux?.maskedPaths = masked
        let result = try output(bundle, driver)
        let lines = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines == ["0", "0", "RO-SYS"])
    }

    @Test func userNamespaceMapsRootToAnUnprivilegedHostID() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "id -u; cat /proc/self/uid_map"])
        bundle.spec.linux?.namespaces?.append(Namespace(type: "user"))
        bundle.spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 100000, size: 65536)]
        bundle.spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 100000, size: 65536)]
        // Inside a user namespace, sysfs and cgroups are bound from the host.
        let root = bundle.rootfs
        try Shell.run("/bin/chown", ["-R", "100000:100000", root])
        let result = try output(bundle, driver)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.first == "0")
        #expect(lines.dropFirst().first == "0 100000 65536")
    }

    @Test func sysctlIsApplied() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["cat", "/proc/sys/net/ipv4/ip_forward"])
        bundle.spec.linux?.sysctl = ["net.ipv4.ip_forward": "1"]
        bundle.spec.linux?.readonlyPaths = []
        let result = try output(bundle, driver)
        #expect(result.stdout == "1\n", "\(result.stderr)")
    }

    @Test func joiningAnotherContainersNetworkNamespace() throws {
        let driver = try RuntimeDriver()
        var first = try BusyboxBundle(args: ["sleep", "100"])
        first.spec.hostname = "first"
        try first.write()
        let firstID = Scratch.uniqueID("netns")
        let started = try driver.run(["run", "-d", "--bundle", first.directory, firstID])
        #expect(started.status == 0, "\(started.stderr)")
        defer { _ = try? driver.run(["delete", "-f", firstID]) }
        let state = try driver.state(firstID)
        let pid = state["pid"] as? Int ?? 0
        try #require(pid > 0, "\(state)")
        var second = try BusyboxBundle(args: ["readlink", "/proc/self/ns/net"])
        let namespaces = (second.spec.linux?.namespaces ?? []).map {
            $0.type == "network" ? Namespace(type: "network", path: "/proc/\(pid)/ns/net") : $0
        }
        second.spec.linux?.namespaces = namespaces
        let result = try output(second, driver)
        let expected = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
        #expect(result.stdout == expected + "\n")
    }

    @Test func withoutAMountNamespaceTheHostMountsAreUntouched() throws {
        let driver = try RuntimeDriver()
        // No mounts at all (not even /proc): the process only sees the rootfs by chroot.
        var bundle = try BusyboxBundle(args: ["sh", "-c", "ls /marker /proc | tr '\\n' ' '"])
        try bundle.writeFile("/marker", "inside")
        bundle.spec.linux?.namespaces = [Namespace(type: "pid")]
        bundle.spec.hostname = nil
        let before = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        let result = try output(bundle, driver)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("/marker "))
        #expect(result.stdout.hasSuffix("/proc: "), "an empty /proc: nothing was mounted")
        let after = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        // Only mounts of this bundle count: other suites mount and unmount in parallel.
        func ours(_ table: String) -> Int { table.split(separator: "\n").filter { $0.contains(bundle.directory) }.count }
        #expect(ours(before) == 0)
        #expect(ours(after) == 0, "the runtime left a mount under the bundle")
    }

    @Test func tmpcopyupKeepsTheImageContent() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "cat /etc/motd; ls -l /etc/motd | cut -c1-10; echo x > /etc/new && echo writable; grep ' /etc ' /proc/mounts | cut -d' ' -f3"])
        try bundle.writeFile("/etc/motd", "from the image\n", mode: 0o640)
        bundle.spec.root?.readonly = true
        bundle.spec.mounts?.append(Mount(destination: "/etc", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "mode=755"]))
        let result = try output(bundle, driver)
        #expect(result.stdout == "from the image\n-rw-r-----\nwritable\ntmpfs\n", "\(result.stderr)")
        // The image itself is unchanged.
        #expect(!FileManager.default.fileExists(atPath: bundle.rootfs + "/etc/new"))
    }

    @Test func rootfsPropagationIsAppliedToTheRoot() throws {
        let driver = try RuntimeDriver()
        // A slave of a private host root has no master, so rslave may show either.
        let expected = ["private": ["-"], "rslave": ["master:", "-"], "shared": ["shared:"], "runbindable": ["unbindable"]]
        for (propagation, markers) in expected {
            var bundle = try BusyboxBundle(args: ["awk", "$5 == \"/\" { print $7 }", "/proc/self/mountinfo"])
            bundle.spec.linux?.rootfsPropagation = propagation
            let result = try output(bundle, driver)
            #expect(result.status == 0, "\(propagation): \(result.stderr)")
            #expect(markers.contains { result.stdout.hasPrefix($0) }, "\(propagation): \(result.stdout)")
        }
    }

    @Test func timeNamespacePersonalityDomainnameAndHugetlb() throws {
        let driver = try RuntimeDriver()
        var bundle = try BusyboxBundle(args: ["sh", "-c", "uname -m; cut -d. -f1 /proc/uptime; cat /proc/sys/kernel/domainname; cat /sys/fs/cgroup/unified/hugetlb.2MB.max"])
        bundle.spec.linux?.namespaces?.append(Namespace(type: "time"))
        bundle.spec.linux?.timeOffsets = ["boottime": TimeOffset(secs: 864_000, nanosecs: 0)]
        bundle.spec.linux?.personality = Personality(domain: "LINUX32", flags: nil)
        bundle.spec.domainname = "example.test"
        var resources = bundle.spec.linux?.resources ?? Resources()
        resources.hugepageLimits = [Resources.HugepageLimit(pageSize: "2MB", limit: 4 * 1024 * 1024)]
        bundle.spec.linux?.resources = resources
        let result = try output(bundle, driver)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(result.stderr)")
        guard lines.count == 4 else { return }
        #expect(lines[0] == "i686")
        #expect((Int(lines[1]) ?? 0) >= 864_000)
        #expect(lines[2] == "example.test")
        #expect(lines[3] == "4194304")
    }
}
