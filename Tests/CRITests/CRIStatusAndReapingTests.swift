import CRIProto
import Foundation
import GRPCCore
import Testing

/// What the kubelet and crictl read beyond the basic status (verbose `info`, effective
/// resources, CPU rates and available memory), and that a long-lived caissond reaps what
/// it starts.
@Suite(.serialized)
struct CRIStatusAndReapingTests {
    typealias Runtime = CRITests.Runtime

    static func json(_ text: String?) throws -> [String: Any] {
        let data = Data(try #require(text, "no info").utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func verboseStatusResourcesAndStats() async throws {
        try await CRIFixture.with { fixture, runtime, images in
            _ = try await CRITests.pull(images, CRIFixture.image)
            let pod = fixture.podConfig("verbose")
            let podID = try await CRITests.runPod(runtime, pod)
            var podRequest = Runtime_V1_PodSandboxStatusRequest()
            podRequest.podSandboxID = podID
            podRequest.verbose = true
            let podInfo = try Self.json(try await runtime.podSandboxStatus(podRequest).info["info"])
            let pausePID = try #require(podInfo["pid"] as? Int)
            #expect(pausePID > 0 && kill(pid_t(pausePID), 0) == 0)
            #expect(podInfo["processStatus"] as? String == "running")
            #expect(podInfo["netNamespaceClosed"] as? Bool == false)
            let podSpec = try #require(podInfo["runtimeSpec"] as? [String: Any])
            let podLinux = try #require(podSpec["linux"] as? [String: Any])
            // The daemon's own cgroup parent (--cgroup-parent), not the shared default.
            #expect((podLinux["cgroupsPath"] as? String)?.hasPrefix(fixture.cgroupParent + "/") == true)
            let podConfig = try #require(podInfo["config"] as? [String: Any])
            #expect((podConfig["metadata"] as? [String: Any])?["name"] as? String == "verbose")
            let cni = try #require(podInfo["cniResult"] as? [String: Any])
            #expect((cni["ips"] as? [Any])?.isEmpty == false)
            // Not verbose: no info.
            podRequest.verbose = false
            #expect(try await runtime.podSandboxStatus(podRequest).info.isEmpty)

            var config = fixture.containerConfig("limited", command: ["sleep", "100"])
            config.linux.resources.memoryLimitInBytes = 64 << 20
            config.linux.resources.cpuShares = 512
            let id = try await CRITests.createAndStart(runtime, podID: podID, config: config, pod: pod)
            let plain = fixture.containerConfig("plain", command: ["sleep", "100"])
            let plainID = try await CRITests.createAndStart(runtime, podID: podID, config: plain, pod: pod)

            var request = Runtime_V1_ContainerStatusRequest()
            request.containerID = id
            request.verbose = true
            let response = try await runtime.containerStatus(request)
            let info = try Self.json(response.info["info"])
            #expect(info["sandboxID"] as? String == podID)
            let pid = try #require(info["pid"] as? Int)
            #expect(pid > 0 && kill(pid_t(pid), 0) == 0)
            let spec = try #require(info["runtimeSpec"] as? [String: Any])
            #expect((spec["process"] as? [String: Any])?["args"] as? [String] == ["sleep", "100"])
            #expect(((info["config"] as? [String: Any])?["metadata"] as? [String: Any])?["name"] as? String == "limited")
            #expect(info["runtimeType"] is String && info["snapshotKey"] is String)
            #expect(response.status.hasResources)
            #expect(response.status.resources.linux.memoryLimitInBytes == 64 << 20)
            #expect(response.status.resources.linux.cpuShares == 512)
            // Resources show even when the kubelet asked for none (they were null before).
            #expect(try await CRITests.containerStatus(runtime, plainID).hasResources)

            var stats = Runtime_V1_ContainerStatsRequest()
            stats.containerID = id
            _ = try await runtime.containerStats(stats)
            try await Task.sleep(for: .milliseconds(200))
            let second = try await runtime.containerStats(stats).stats
            #expect(second.cpu.hasUsageNanoCores)
            #expect(second.memory.hasAvailableBytes)
            #expect(second.memory.availableBytes.value > 0 && second.memory.availableBytes.value <= 64 << 20)
            stats.containerID = plainID
            let unlimited = try await runtime.containerStats(stats).stats
            #expect(unlimited.memory.hasAvailableBytes && unlimited.cpu.hasUsageNanoCores)
        }
    }

    /// Zombie children of a process: their count, from /proc.
    static func zombies(of parent: pid_t) -> [String] {
        var found: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            if fields.count > 1, fields[0] == "Z", Int32(fields[1]) == parent { found.append(entry) }
        }
        return found
    }

    static func openDescriptors(_ pid: pid_t) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }

    /// caissond spawned a monitor per container and pod and never waited for it: one
    /// zombie each. After 50 lifecycles none may be left, nor any descriptor.
    @Test func fiftyLifecyclesLeaveNoZombiesNorDescriptors() async throws {
        try await CRIFixture.with { fixture, runtime, images in
            _ = try await CRITests.pull(images, CRIFixture.image)
            let daemon = try #require(fixture.daemonPID)
            func lifecycle(_ index: Int) async throws {
                let pod = fixture.podConfig("reap\(index)")
                let podID = try await CRITests.runPod(runtime, pod)
                let id = try await CRITests.createAndStart(runtime, podID: podID,
                                                           config: fixture.containerConfig("c", command: ["true"]), pod: pod)
                _ = try await CRITests.waitForExit(runtime, id)
                var stop = Runtime_V1_StopPodSandboxRequest()
                stop.podSandboxID = podID
                _ = try await runtime.stopPodSandbox(stop)
                var remove = Runtime_V1_RemovePodSandboxRequest()
                remove.podSandboxID = podID
                _ = try await runtime.removePodSandbox(remove)
            }
            try await lifecycle(0)
            let steady = Self.openDescriptors(daemon)
            for index in 1...50 { try await lifecycle(index) }
            // Monitors that are still exiting are not yet anyone's zombies; give them a moment.
            var zombies = Self.zombies(of: daemon)
            for _ in 0..<20 where !zombies.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                zombies = Self.zombies(of: daemon)
            }
            #expect(zombies.isEmpty, "zombie children of caissond: \(zombies)")
            #expect(Self.openDescriptors(daemon) <= steady, "caissond had \(steady) descriptors, now \(Self.openDescriptors(daemon))")
        }
    }
}
