import Foundation
import Testing
import OCISpec

/// The pure cgroup v2 path, on this hybrid host: the runtime runs in a private mount
/// namespace whose /sys/fs/cgroup is a cgroup2 mount (the same hierarchy the host shows
/// at /sys/fs/cgroup/unified), so it sees a unified layout and enforces device rules
/// with an eBPF program.
@Suite(.timeLimit(.minutes(2))) struct UnifiedCgroupTests {
    func runOnUnifiedLayout(_ bundle: BusyboxBundle, _ driver: RuntimeDriver, id: String) throws -> Shell.Result {
        try bundle.write()
        let script = "umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && "
            + "exec \(RuntimeDriver.binary) --root \(driver.root) run --bundle \(bundle.directory) \(id)"
        return try Shell.run("/usr/bin/unshare", ["-m", "--propagation", "private", "sh", "-c", script])
    }

    @Test func deviceRulesAreEnforcedByEBPF() throws {
        let driver = try RuntimeDriver()
        for (rules, expected) in [([DeviceCgroupRule(allow: false, access: "rwm")], "DENIED"),
                                  ([DeviceCgroupRule(allow: true, access: "rwm")], "READ")] {
            var bundle = try BusyboxBundle(args: ["sh", "-c", "head -c 1 /dev/urandom | wc -c; mknod /tmp/kmsg c 1 11; head -c 1 /tmp/kmsg > /dev/null 2>&1 && echo READ || echo DENIED"])
            bundle.spec.process?.capabilities = nil
            var resources = Resources()
            resources.devices = rules
            bundle.spec.linux?.resources = resources
            let id = Scratch.uniqueID("v2dev")
            let result = try runOnUnifiedLayout(bundle, driver, id: id)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "1\n\(expected)\n", "\(rules): \(result.stderr)")
            #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
        }
    }

    @Test func theContainerGetsItsOwnCgroupNamespaceRoot() throws {
        let driver = try RuntimeDriver()
        let bundle = try BusyboxBundle(args: ["sh", "-c", "cat /proc/self/cgroup | grep '^0::'; ls /sys/fs/cgroup | grep -c cgroup.procs"])
        let id = Scratch.uniqueID("v2ns")
        let result = try runOnUnifiedLayout(bundle, driver, id: id)
        #expect(result.stdout == "0::/\n1\n", "\(result.stderr)")
        #expect(driver.leftovers(id: id, bundle: bundle).isEmpty)
    }
}
