import Foundation
import Testing

/// The reduced crash-consistency run: `scripts/crash-test` SIGKILLs `caisson run`, `create`,
/// `start`, `rm -f`, `pull`, `push`, `build`, a monitor, `caisson-runtime create` and caissond in
/// the middle of RunPodSandbox, CreateContainer and RemovePodSandbox, at random points,
/// then checks that nothing leaked (mounts, cgroups, network namespaces, veths, iptables
/// rules, IPAM leases, state), the stores are whole, and a sentinel container and pod
/// still run. The full run (500 kill points and more) is `scripts/crash-test`.
@Suite("crash consistency")
struct CrashConsistencyTests {
    static func script() -> String {
        var directory = (EngineFixture.binary as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            let candidate = directory + "/scripts/crash-test"
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return "scripts/crash-test"
    }

    @Test("40 random kill points leave no leak and no broken store")
    func randomKillPoints() throws {
        let seed = Int.random(in: 1...1_000_000)
        let binDirectory = (EngineFixture.binary as NSString).deletingLastPathComponent
        let result = try Shell.run("/usr/bin/env", ["python3", Self.script(), "--kills", "40", "--seed", String(seed),
                                                    "--bin", binDirectory], timeout: 900)
        let output = result.stdout + result.stderr
        #expect(result.status == 0, "crash-test (seed \(seed)) failed:\n\(output.suffix(4000))")
        #expect(output.contains("\nproblems: 0\n"), "\(output.suffix(2000))")
        let killed = output.split(separator: "\n").first { $0.hasPrefix("kill points: ") }
            .flatMap { Int($0.dropFirst("kill points: ".count).prefix { $0.isNumber }) } ?? 0
        #expect(killed >= 40, "only \(killed) kill points (seed \(seed))")
    }
}
