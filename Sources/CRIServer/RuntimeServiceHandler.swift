import CaissonSys
import CRIProto
import FoundationEssentials
import GRPCCore

/// `runtime.v1.RuntimeService` for the kubelet: each RPC unpacks its request, runs the
/// pod manager's blocking work off the server's threads, and maps failures to statuses.
public struct RuntimeServiceHandler: Runtime_V1_RuntimeService.SimpleServiceProtocol {
    let manager: PodManager
    let streaming: StreamingRequests?
    public static let version = "0.1.0"

    public init(manager: PodManager, streaming: StreamingRequests?) {
        self.manager = manager
        self.streaming = streaming
    }

    /// Runs `work` on the blocking pool; CRIError becomes its gRPC status.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws(CRIError) -> T) async throws -> T {
        do {
            return try await Blocking.run { () throws -> T in try work() }
        } catch let error as CRIError {
            throw error.rpcError
        }
    }

    public func version(request: Runtime_V1_VersionRequest, context: ServerContext) async throws -> Runtime_V1_VersionResponse {
        var response = Runtime_V1_VersionResponse()
        response.version = "0.1.0"
        response.runtimeName = "caisson"
        response.runtimeVersion = RuntimeServiceHandler.version
        response.runtimeApiVersion = "v1"
        return response
    }

    public func runPodSandbox(request: Runtime_V1_RunPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_RunPodSandboxResponse {
        let manager = manager
        let id = try await run { () throws(CRIError) in try manager.runPodSandbox(request.config, runtimeHandler: request.runtimeHandler) }
        var response = Runtime_V1_RunPodSandboxResponse()
        response.podSandboxID = id
        return response
    }

    public func stopPodSandbox(request: Runtime_V1_StopPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_StopPodSandboxResponse {
        let manager = manager
        try await run { () throws(CRIError) in try manager.stopPodSandbox(request.podSandboxID) }
        return Runtime_V1_StopPodSandboxResponse()
    }

    public func removePodSandbox(request: Runtime_V1_RemovePodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_RemovePodSandboxResponse {
        let manager = manager
        try await run { () throws(CRIError) in try manager.removePodSandbox(request.podSandboxID) }
        return Runtime_V1_RemovePodSandboxResponse()
    }

    public func podSandboxStatus(request: Runtime_V1_PodSandboxStatusRequest, context: ServerContext) async throws -> Runtime_V1_PodSandboxStatusResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_PodSandboxStatusResponse()
            response.status = try manager.podSandboxStatus(request.podSandboxID)
            if request.verbose { response.info = try manager.podSandboxInfo(request.podSandboxID) }
            response.timestamp = Timestamps.now()
            return response
        }
    }

    public func listPodSandbox(request: Runtime_V1_ListPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_ListPodSandboxResponse()
            response.items = manager.listPodSandboxes(request.hasFilter ? request.filter : nil)
            return response
        }
    }

    public func createContainer(request: Runtime_V1_CreateContainerRequest, context: ServerContext) async throws -> Runtime_V1_CreateContainerResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_CreateContainerResponse()
            response.containerID = try manager.createContainer(sandboxID: request.podSandboxID, config: request.config,
                                                               sandboxConfig: request.sandboxConfig)
            return response
        }
    }

    public func startContainer(request: Runtime_V1_StartContainerRequest, context: ServerContext) async throws -> Runtime_V1_StartContainerResponse {
        let manager = manager
        try await run { () throws(CRIError) in try manager.startContainer(request.containerID) }
        return Runtime_V1_StartContainerResponse()
    }

    public func stopContainer(request: Runtime_V1_StopContainerRequest, context: ServerContext) async throws -> Runtime_V1_StopContainerResponse {
        let manager = manager
        try await run { () throws(CRIError) in try manager.stopContainer(request.containerID, timeout: request.timeout) }
        return Runtime_V1_StopContainerResponse()
    }

    public func removeContainer(request: Runtime_V1_RemoveContainerRequest, context: ServerContext) async throws -> Runtime_V1_RemoveContainerResponse {
        let manager = manager
        try await run { () throws(CRIError) in try manager.removeContainer(request.containerID) }
        return Runtime_V1_RemoveContainerResponse()
    }

    public func listContainers(request: Runtime_V1_ListContainersRequest, context: ServerContext) async throws -> Runtime_V1_ListContainersResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_ListContainersResponse()
            response.containers = manager.listContainers(request.hasFilter ? request.filter : nil)
            return response
        }
    }

    public func containerStatus(request: Runtime_V1_ContainerStatusRequest, context: ServerContext) async throws -> Runtime_V1_ContainerStatusResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_ContainerStatusResponse()
            response.status = try manager.containerStatus(request.containerID)
            if request.verbose { response.info = try manager.containerInfo(request.containerID) }
            return response
        }
    }

    public func updateContainerResources(request: Runtime_V1_UpdateContainerResourcesRequest, context: ServerContext) async throws -> Runtime_V1_UpdateContainerResourcesResponse {
        let manager = manager
        try await run { () throws(CRIError) in
            guard request.hasLinux else { throw CRIError.invalid("UpdateContainerResources: no Linux resources given") }
            try manager.updateContainerResources(request.containerID, resources: request.linux)
        }
        return Runtime_V1_UpdateContainerResourcesResponse()
    }

    public func reopenContainerLog(request: Runtime_V1_ReopenContainerLogRequest, context: ServerContext) async throws -> Runtime_V1_ReopenContainerLogResponse {
        let manager = manager
        try await run { () throws(CRIError) in try manager.reopenContainerLog(request.containerID) }
        return Runtime_V1_ReopenContainerLogResponse()
    }

    public func execSync(request: Runtime_V1_ExecSyncRequest, context: ServerContext) async throws -> Runtime_V1_ExecSyncResponse {
        let manager = manager
        let result = try await run { () throws(CRIError) in
            try manager.execSync(request.containerID, command: request.cmd, timeoutSeconds: request.timeout)
        }
        var response = Runtime_V1_ExecSyncResponse()
        response.stdout = Data(result.stdout)
        response.stderr = Data(result.stderr)
        response.exitCode = result.exitCode
        return response
    }

    public func exec(request: Runtime_V1_ExecRequest, context: ServerContext) async throws -> Runtime_V1_ExecResponse {
        guard let streaming else { throw RPCError(code: .unavailable, message: "the streaming server is not running") }
        let manager = manager
        try await run { () throws(CRIError) in try manager.checkExec(request) }
        var response = Runtime_V1_ExecResponse()
        response.url = streaming.register(.exec(request))
        return response
    }

    public func attach(request: Runtime_V1_AttachRequest, context: ServerContext) async throws -> Runtime_V1_AttachResponse {
        guard let streaming else { throw RPCError(code: .unavailable, message: "the streaming server is not running") }
        let manager = manager
        try await run { () throws(CRIError) in try manager.checkAttach(request) }
        var response = Runtime_V1_AttachResponse()
        response.url = streaming.register(.attach(request))
        return response
    }

    public func portForward(request: Runtime_V1_PortForwardRequest, context: ServerContext) async throws -> Runtime_V1_PortForwardResponse {
        guard let streaming else { throw RPCError(code: .unavailable, message: "the streaming server is not running") }
        let manager = manager
        try await run { () throws(CRIError) in try manager.checkPortForward(request) }
        var response = Runtime_V1_PortForwardResponse()
        response.url = streaming.register(.portForward(request))
        return response
    }

    public func containerStats(request: Runtime_V1_ContainerStatsRequest, context: ServerContext) async throws -> Runtime_V1_ContainerStatsResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_ContainerStatsResponse()
            response.stats = try manager.containerStats(request.containerID)
            return response
        }
    }

    public func listContainerStats(request: Runtime_V1_ListContainerStatsRequest, context: ServerContext) async throws -> Runtime_V1_ListContainerStatsResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_ListContainerStatsResponse()
            response.stats = manager.listContainerStats(request.hasFilter ? request.filter : nil)
            return response
        }
    }

    public func podSandboxStats(request: Runtime_V1_PodSandboxStatsRequest, context: ServerContext) async throws -> Runtime_V1_PodSandboxStatsResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_PodSandboxStatsResponse()
            response.stats = try manager.podSandboxStats(request.podSandboxID)
            return response
        }
    }

    public func listPodSandboxStats(request: Runtime_V1_ListPodSandboxStatsRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxStatsResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_ListPodSandboxStatsResponse()
            response.stats = manager.listPodSandboxStats(request.hasFilter ? request.filter : nil)
            return response
        }
    }

    public func updateRuntimeConfig(request: Runtime_V1_UpdateRuntimeConfigRequest, context: ServerContext) async throws -> Runtime_V1_UpdateRuntimeConfigResponse {
        // The pod CIDR is the CNI configuration's business (host-local ranges); nothing to change here.
        Runtime_V1_UpdateRuntimeConfigResponse()
    }

    public func status(request: Runtime_V1_StatusRequest, context: ServerContext) async throws -> Runtime_V1_StatusResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var runtimeReady = Runtime_V1_RuntimeCondition()
            runtimeReady.type = "RuntimeReady"
            runtimeReady.status = true
            var networkReady = Runtime_V1_RuntimeCondition()
            networkReady.type = "NetworkReady"
            do {
                _ = try manager.network.configurationList()
                networkReady.status = true
            } catch {
                networkReady.status = false
                networkReady.reason = "NetworkPluginNotReady"
                networkReady.message = "Network plugin returns error: \(error)"
            }
            var response = Runtime_V1_StatusResponse()
            response.status.conditions = [runtimeReady, networkReady]
            return response
        }
    }

    public func checkpointContainer(request: Runtime_V1_CheckpointContainerRequest, context: ServerContext) async throws -> Runtime_V1_CheckpointContainerResponse {
        throw RPCError(code: .unimplemented, message: "CheckpointContainer is not supported by caissond (no CRIU)")
    }

    public func getContainerEvents(request: Runtime_V1_GetEventsRequest, response: RPCWriter<Runtime_V1_ContainerEventResponse>,
                                   context: ServerContext) async throws {
        throw RPCError(code: .unimplemented, message: "GetContainerEvents (evented PLEG) is not supported by caissond; the kubelet polls instead")
    }

    public func listMetricDescriptors(request: Runtime_V1_ListMetricDescriptorsRequest, context: ServerContext) async throws -> Runtime_V1_ListMetricDescriptorsResponse {
        // No metrics beyond the stats RPCs.
        Runtime_V1_ListMetricDescriptorsResponse()
    }

    public func listPodSandboxMetrics(request: Runtime_V1_ListPodSandboxMetricsRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxMetricsResponse {
        Runtime_V1_ListPodSandboxMetricsResponse()
    }

    public func runtimeConfig(request: Runtime_V1_RuntimeConfigRequest, context: ServerContext) async throws -> Runtime_V1_RuntimeConfigResponse {
        var response = Runtime_V1_RuntimeConfigResponse()
        response.linux.cgroupDriver = .cgroupfs
        return response
    }
}
