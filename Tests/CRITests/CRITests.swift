import CRIProto
import Foundation
import GRPCCore
import Testing

/// caissond through its CRI socket, with the generated gRPC clients, as the kubelet uses
/// it: real pods (pause process, CNI bridge), real containers, the real registry.
@Suite(.serialized)
struct CRITests {
    typealias Runtime = Runtime_V1_RuntimeService.Client<CRIFixture.Transport>
    typealias Images = Runtime_V1_ImageService.Client<CRIFixture.Transport>

    @Test func runtimeInfo() async throws {
        try await CRIFixture.with { _, runtime, _ in
            let version = try await runtime.version(Runtime_V1_VersionRequest())
            #expect(version.runtimeName == "caisson")
            #expect(version.runtimeApiVersion == "v1")
            let status = try await runtime.status(Runtime_V1_StatusRequest())
            let conditions = Dictionary(uniqueKeysWithValues: status.status.conditions.map { ($0.type, $0.status) })
            #expect(conditions == ["RuntimeReady": true, "NetworkReady": true])
            let config = try await runtime.runtimeConfig(Runtime_V1_RuntimeConfigRequest())
            #expect(config.linux.cgroupDriver == .cgroupfs)
        }
    }

    @Test func imagesThroughTheMirror() async throws {
        try await CRIFixture.with { _, _, images in
            let pulled = try await CRITests.pull(images, CRIFixture.image)
            #expect(pulled.hasPrefix("sha256:"))
            let byName = try await CRITests.status(images, CRIFixture.image)
            #expect(byName?.id == pulled)
            #expect(byName?.repoTags == [CRIFixture.image])
            let digest = try #require(byName?.repoDigests.first)
            #expect(digest.hasPrefix("registry.example/e2e/busybox@sha256:"))
            for reference in [pulled, String(pulled.dropFirst(7).prefix(12)), digest] {
                #expect(try await CRITests.status(images, reference) == byName, "ImageStatus by \(reference)")
            }
            let listed = try await images.listImages(Runtime_V1_ListImagesRequest()).images
            #expect(listed.map(\.id) == [pulled])
            await #expect(throws: RPCError.self) { try await CRITests.pull(images, "registry.example/e2e/missing:1") }
            var remove = Runtime_V1_RemoveImageRequest()
            remove.image.image = CRIFixture.image
            _ = try await images.removeImage(remove)
            #expect(try await CRITests.status(images, CRIFixture.image) == nil)
            // Removing what is gone is not an error.
            _ = try await images.removeImage(remove)
        }
    }

    /// The kubelet's credentials reach the registry through the mirror.
    @Test func pullWithCredentials() async throws {
        try await CRIFixture.with(basicAuth: true) { _, _, images in
            do {
                _ = try await CRITests.pull(images, CRIFixture.image)
                Issue.record("an anonymous pull from a registry that wants credentials succeeded")
            } catch let error as RPCError {
                #expect(error.message.contains("credentials") || error.message.contains("unauthorized") || error.message.contains("401"),
                        "\(error.message)")
            }
            var request = Runtime_V1_PullImageRequest()
            request.image.image = CRIFixture.image
            request.auth.username = TestRegistry.user
            request.auth.password = TestRegistry.password
            #expect(try await images.pullImage(request).imageRef.hasPrefix("sha256:"))
            var remove = Runtime_V1_RemoveImageRequest()
            remove.image.image = CRIFixture.image
            _ = try await images.removeImage(remove)
            // The docker-config form: base64 of user:password.
            request.auth = Runtime_V1_AuthConfig()
            request.auth.auth = Data("\(TestRegistry.user):\(TestRegistry.password)".utf8).base64EncodedString()
            #expect(try await images.pullImage(request).imageRef.hasPrefix("sha256:"))
        }
    }

    /// The OCI runtime of the default handler (caisson-runtime) and of the runc handler.
    static let handlers = ["", "runc"]

    @Test(arguments: CRITests.handlers)
    func podAndContainerLifecycle(handler: String) async throws {
        try await CRIFixture.with { fixture, runtime, images in
            _ = try await CRITests.pull(images, CRIFixture.image)
            let pod = fixture.podConfig("lifecycle")
            let podID = try await CRITests.runPod(runtime, pod, handler: handler)
            var podStatus = Runtime_V1_PodSandboxStatusRequest()
            podStatus.podSandboxID = podID
            let status = try await runtime.podSandboxStatus(podStatus).status
            #expect(status.state == .sandboxReady)
            #expect(status.network.ip.hasPrefix(fixture.subnet.split(separator: ".").prefix(3).joined(separator: ".") + "."))

            var config = fixture.containerConfig("main", command: ["sh", "-c", "echo hello; hostname; cat /etc/resolv.conf; exec sleep 100"])
            var device = Runtime_V1_Device()
            device.hostPath = "/dev/null"
            device.containerPath = "/dev/kubelet-null"
            device.permissions = "rw"
            config.devices = [device]
            let id = try await CRITests.createAndStart(runtime, podID: podID, config: config, pod: pod)
            let log = pod.logDirectory + "/main.log"
            let lines = try await CRITests.waitForLog(log, lines: 5)
            // The CRI log format: RFC 3339 time, stream, F(ull) or P(artial), text.
            for line in lines {
                let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                #expect(fields.count == 4 && fields[1] == "stdout" && fields[2] == "F" && fields[0].hasSuffix("Z"), "\(line)")
            }
            #expect(lines.map { $0.split(separator: " ", maxSplits: 3).last.map(String.init) ?? "" }
                    == ["hello", "lifecycle", "search example.test", "nameserver 10.10.10.10", "options ndots:3"])

            // ExecSync: exact bytes and the exit code.
            var exec = Runtime_V1_ExecSyncRequest()
            exec.containerID = id
            exec.cmd = ["sh", "-c", "printf 'out\\n\\001'; printf err >&2; exit 7"]
            exec.timeout = 10
            let result = try await runtime.execSync(exec)
            #expect(result.stdout == Data("out\n\u{1}".utf8))
            #expect(result.stderr == Data("err".utf8))
            #expect(result.exitCode == 7)

            // The device the kubelet passed is there and usable.
            exec.cmd = ["sh", "-c", "echo x > /dev/kubelet-null && ls -l /dev/kubelet-null"]
            let usedDevice = try await runtime.execSync(exec)
            #expect(usedDevice.exitCode == 0, "\(String(decoding: usedDevice.stderr, as: UTF8.self))")
            #expect(String(decoding: usedDevice.stdout, as: UTF8.self).hasPrefix("crw"))

            // A timeout kills the command and fails the call.
            exec.cmd = ["sleep", "4321"]
            exec.timeout = 1
            await #expect(throws: RPCError.self) { try await runtime.execSync(exec) }
            exec.cmd = ["sh", "-c", "ps -o comm | grep -c '^sleep' || true"]
            exec.timeout = 10
            #expect(String(decoding: try await runtime.execSync(exec).stdout, as: UTF8.self) == "1\n", "only the container's own sleep")

            var stats = Runtime_V1_ContainerStatsRequest()
            stats.containerID = id
            let usage = try await runtime.containerStats(stats).stats
            #expect(usage.attributes.id == id)
            #expect(usage.memory.workingSetBytes.value > 0)

            var filter = Runtime_V1_ListContainersRequest()
            filter.filter.labelSelector = ["container": "main"]
            #expect(try await runtime.listContainers(filter).containers.map(\.id) == [id])

            var stop = Runtime_V1_StopContainerRequest()
            stop.containerID = id
            stop.timeout = 5
            _ = try await runtime.stopContainer(stop)
            let stopped = try await CRITests.containerStatus(runtime, id)
            #expect(stopped.state == .containerExited)
            #expect(stopped.exitCode == 143)
            #expect(stopped.reason == "Error")
            #expect(stopped.finishedAt >= stopped.startedAt && stopped.startedAt > 0)

            var remove = Runtime_V1_RemoveContainerRequest()
            remove.containerID = id
            _ = try await runtime.removeContainer(remove)
            await #expect(throws: RPCError.self) { try await CRITests.containerStatus(runtime, id) }

            var stopPod = Runtime_V1_StopPodSandboxRequest()
            stopPod.podSandboxID = podID
            _ = try await runtime.stopPodSandbox(stopPod)
            #expect(try await runtime.podSandboxStatus(podStatus).status.state == .sandboxNotready)
            var removePod = Runtime_V1_RemovePodSandboxRequest()
            removePod.podSandboxID = podID
            _ = try await runtime.removePodSandbox(removePod)
            _ = try await runtime.removePodSandbox(removePod)
            #expect(try await runtime.listPodSandbox(Runtime_V1_ListPodSandboxRequest()).items.isEmpty)
        }
    }

    @Test func memoryLimitEndsInOOMKilled() async throws {
        try await CRIFixture.with { fixture, runtime, images in
            _ = try await CRITests.pull(images, CRIFixture.image)
            let pod = fixture.podConfig("oom")
            let podID = try await CRITests.runPod(runtime, pod)
            var config = fixture.containerConfig("hog", command: ["sh", "-c", "x=a; while true; do x=$x$x; done"])
            config.linux.resources.memoryLimitInBytes = 16 * 1024 * 1024
            let id = try await CRITests.createAndStart(runtime, podID: podID, config: config, pod: pod)
            let status = try await CRITests.waitForExit(runtime, id)
            #expect(status.exitCode == 137)
            #expect(status.reason == "OOMKilled")
        }
    }

    @Test func badRequestsAreRefusedAndLeaveNothing() async throws {
        try await CRIFixture.with { fixture, runtime, images in
            await #expect(throws: RPCError.self) { try await CRITests.runPod(runtime, Runtime_V1_PodSandboxConfig()) }
            var unknownHandler = Runtime_V1_RunPodSandboxRequest()
            unknownHandler.config = fixture.podConfig("handler")
            unknownHandler.runtimeHandler = "no-such-handler"
            do {
                _ = try await runtime.runPodSandbox(unknownHandler)
                Issue.record("an unknown runtime handler was accepted")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("no-such-handler"))
            }
            var userns = fixture.podConfig("userns")
            userns.linux.securityContext.namespaceOptions.usernsOptions.mode = .pod
            await #expect(throws: RPCError.self) { try await CRITests.runPod(runtime, userns) }
            let pod = fixture.podConfig("bad")
            let podID = try await CRITests.runPod(runtime, pod)
            var create = Runtime_V1_CreateContainerRequest()
            create.podSandboxID = podID
            create.sandboxConfig = pod
            create.config = fixture.containerConfig("missing", command: ["true"])
            create.config.image.image = "registry.example/e2e/not-pulled:1"
            do {
                _ = try await runtime.createContainer(create)
                Issue.record("a container of a missing image was created")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
            }
            _ = try await CRITests.pull(images, CRIFixture.image)
            create.config.image.image = CRIFixture.image
            create.config.linux.securityContext.runAsGroup.value = 10
            await #expect(throws: RPCError.self) { try await runtime.createContainer(create) }
            create.podSandboxID = "0123456789abcdef"
            create.config.linux.securityContext = Runtime_V1_LinuxContainerSecurityContext()
            do {
                _ = try await runtime.createContainer(create)
                Issue.record("a container in an unknown sandbox was created")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
            }
            #expect(try await runtime.listContainers(Runtime_V1_ListContainersRequest()).containers.isEmpty)
            let directories = (try? FileManager.default.contentsOfDirectory(atPath: fixture.root + "/cri/containers")) ?? []
            #expect(directories.isEmpty)
        }
    }

    @Test func containersOutliveADaemonRestart() async throws {
        try await CRIFixture.with { fixture, runtime, images in
            _ = try await CRITests.pull(images, CRIFixture.image)
            let pod = fixture.podConfig("restart")
            let podID = try await CRITests.runPod(runtime, pod)
            let config = fixture.containerConfig("ticker", command: ["sh", "-c", "while true; do echo tick; sleep 0.2; done"])
            let id = try await CRITests.createAndStart(runtime, podID: podID, config: config, pod: pod)
            fixture.stopDaemon()
            try fixture.startDaemon()
            try await fixture.withClients { runtime, _ in
                #expect(try await CRITests.containerStatus(runtime, id).state == .containerRunning)
                var podStatus = Runtime_V1_PodSandboxStatusRequest()
                podStatus.podSandboxID = podID
                #expect(try await runtime.podSandboxStatus(podStatus).status.state == .sandboxReady)
                var exec = Runtime_V1_ExecSyncRequest()
                exec.containerID = id
                exec.cmd = ["echo", "still here"]
                #expect(try await runtime.execSync(exec).stdout == Data("still here\n".utf8))
                let before = try await CRITests.waitForLog(pod.logDirectory + "/ticker.log", lines: 1).count
                let after = try await CRITests.waitForLog(pod.logDirectory + "/ticker.log", lines: before + 2).count
                #expect(after > before)
            }
        }
    }

    /// Exec, Attach and PortForward URLs served over SPDY to an independent client
    /// (Debian's docker/spdystream, in Tests/Fixtures/cri/spdy-client).
    @Test(arguments: CRITests.handlers)
    func streamingExecAndAttach(handler: String) async throws {
        let client = try CRITests.buildSPDYClient()
        try await CRIFixture.with { fixture, runtime, images in
            _ = try await CRITests.pull(images, CRIFixture.image)
            let pod = fixture.podConfig("streams")
            let podID = try await CRITests.runPod(runtime, pod, handler: handler)
            var config = fixture.containerConfig("shell", command: ["sh"])
            config.stdin = true
            config.stdinOnce = true
            let id = try await CRITests.createAndStart(runtime, podID: podID, config: config, pod: pod)

            var exec = Runtime_V1_ExecRequest()
            exec.containerID = id
            exec.cmd = ["sh", "-c", "cat; echo to-stderr >&2; exit 3"]
            exec.stdin = true
            exec.stdout = true
            exec.stderr = true
            let execURL = try await runtime.exec(exec).url
            #expect(execURL.hasPrefix("http://127.0.0.1:"))
            let execResult = try Shell.run(client, ["exec", execURL, "typed in\n"], timeout: 30)
            #expect(execResult.status == 0, "\(execResult.stderr)")
            #expect(execResult.stdout == "typed in\n")
            #expect(execResult.stderr.hasPrefix("to-stderr\n"))
            #expect(execResult.stderr.contains("\"reason\":\"NonZeroExitCode\""))
            #expect(execResult.stderr.contains("{\"reason\":\"ExitCode\",\"message\":\"3\"}"))
            // A URL is good for one connection only.
            let again = try Shell.run(client, ["exec", execURL], timeout: 30)
            #expect(again.status != 0 && again.stderr.contains("404"))

            // A terminal: the command sees a pty of the size the client sent.
            var terminal = Runtime_V1_ExecRequest()
            terminal.containerID = id
            terminal.cmd = ["sh", "-c", "read line; tty; stty size; echo got $line"]
            terminal.stdin = true
            terminal.stdout = true
            terminal.tty = true
            let terminalURL = try await runtime.exec(terminal).url
            let onTerminal = try Shell.run(client, ["exec", terminalURL, "go\n", "tty"], timeout: 30)
            #expect(onTerminal.status == 0, "\(onTerminal.stderr)")
            #expect(onTerminal.stdout.contains("/dev/pts/"), "\(onTerminal.stdout)")
            #expect(onTerminal.stdout.contains("30 100\r\n"), "\(onTerminal.stdout)")
            #expect(onTerminal.stdout.contains("got go\r\n"), "\(onTerminal.stdout)")

            var attach = Runtime_V1_AttachRequest()
            attach.containerID = id
            attach.stdin = true
            attach.stdout = true
            attach.stderr = true
            let attachURL = try await runtime.attach(attach).url
            let attached = try Shell.run(client, ["exec", attachURL, "echo attached; exit 0\n"], timeout: 30)
            #expect(attached.status == 0, "\(attached.stderr)")
            #expect(attached.stdout == "attached\n")
            #expect(attached.stderr.contains("STATUS: {\"metadata\":{},\"status\":\"Success\"}"))
            // stdin_once: the shell saw the end of its input and exited.
            #expect(try await CRITests.waitForExit(runtime, id).exitCode == 0)

            // Port forwarding into the pod's network namespace.
            let server = fixture.containerConfig("web", command: [
                "sh", "-c", "mkdir -p /www && echo pong > /www/index.html && exec httpd -f -p 8080 -h /www"])
            _ = try await CRITests.createAndStart(runtime, podID: podID, config: server, pod: pod)
            var forward = Runtime_V1_PortForwardRequest()
            forward.podSandboxID = podID
            forward.port = [8080]
            var answer = Shell.Result(status: -1, stdout: "", stderr: "")
            for _ in 0..<50 where !answer.stdout.contains("pong") {
                let url = try await runtime.portForward(forward).url
                answer = try Shell.run(client, ["portforward", url, "8080", "GET / HTTP/1.0\r\n\r\n"], timeout: 30)
                if !answer.stdout.contains("pong") { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(answer.stdout.hasPrefix("HTTP/1.") && answer.stdout.hasSuffix("pong\n"), "\(answer)")
            #expect(answer.stderr.isEmpty)
            // A port the request did not name is refused on the error stream.
            let url = try await runtime.portForward(forward).url
            let refused = try Shell.run(client, ["portforward", url, "9999", "x"], timeout: 30)
            #expect(refused.stderr.contains("9999"))
        }
    }

    /// Builds the SPDY test client with Debian's Go and docker/spdystream.
    static func buildSPDYClient() throws -> String {
        let output = try Scratch.directory("spdy-client") + "/spdy-client"
        let source = CRIFixture.source("Tests/Fixtures/cri/spdy-client")
        let build = try Shell.run("/bin/sh", ["-c", "cd \"$1\" && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= "
                                              + "GOCACHE=/tmp/caisson-go-cache go build -o \"$2\" .", "sh", source, output], timeout: 300)
        guard build.status == 0 else { throw FixtureError(what: "go build spdy-client", output: build.stderr) }
        return output
    }

    // MARK: Helpers

    static func pull(_ images: Images, _ name: String) async throws -> String {
        var request = Runtime_V1_PullImageRequest()
        request.image.image = name
        return try await images.pullImage(request).imageRef
    }

    static func status(_ images: Images, _ name: String) async throws -> Runtime_V1_Image? {
        var request = Runtime_V1_ImageStatusRequest()
        request.image.image = name
        let response = try await images.imageStatus(request)
        return response.hasImage ? response.image : nil
    }

    static func runPod(_ runtime: Runtime, _ config: Runtime_V1_PodSandboxConfig, handler: String = "") async throws -> String {
        var request = Runtime_V1_RunPodSandboxRequest()
        request.config = config
        request.runtimeHandler = handler
        return try await runtime.runPodSandbox(request).podSandboxID
    }

    static func createAndStart(_ runtime: Runtime, podID: String, config: Runtime_V1_ContainerConfig,
                               pod: Runtime_V1_PodSandboxConfig) async throws -> String {
        var create = Runtime_V1_CreateContainerRequest()
        create.podSandboxID = podID
        create.config = config
        create.sandboxConfig = pod
        let id = try await runtime.createContainer(create).containerID
        #expect(try await containerStatus(runtime, id).state == .containerCreated)
        var start = Runtime_V1_StartContainerRequest()
        start.containerID = id
        _ = try await runtime.startContainer(start)
        return id
    }

    static func containerStatus(_ runtime: Runtime, _ id: String) async throws -> Runtime_V1_ContainerStatus {
        var request = Runtime_V1_ContainerStatusRequest()
        request.containerID = id
        return try await runtime.containerStatus(request).status
    }

    static func waitForExit(_ runtime: Runtime, _ id: String) async throws -> Runtime_V1_ContainerStatus {
        for _ in 0..<300 {
            let status = try await containerStatus(runtime, id)
            if status.state == .containerExited { return status }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError(what: "waiting for container \(id) to exit", output: "")
    }

    static func waitForLog(_ path: String, lines: Int) async throws -> [String] {
        for _ in 0..<200 {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let found = text.split(separator: "\n").map(String.init)
            if found.count >= lines { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError(what: "waiting for \(lines) lines in \(path)", output: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}
