import CRIProto
import GRPCCore

/// `runtime.v1.ImageService` for the kubelet, over the node's image store.
public struct ImageServiceHandler: Runtime_V1_ImageService.SimpleServiceProtocol {
    let manager: PodManager

    public init(manager: PodManager) { self.manager = manager }

    private func run<T: Sendable>(_ work: @escaping @Sendable () throws(CRIError) -> T) async throws -> T {
        do {
            return try await Blocking.run { () throws -> T in try work() }
        } catch let error as CRIError {
            throw error.rpcError
        }
    }

    public func listImages(request: Runtime_V1_ListImagesRequest, context: ServerContext) async throws -> Runtime_V1_ListImagesResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_ListImagesResponse()
            response.images = try manager.listImages(request.hasFilter ? request.filter : nil)
            return response
        }
    }

    public func imageStatus(request: Runtime_V1_ImageStatusRequest, context: ServerContext) async throws -> Runtime_V1_ImageStatusResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_ImageStatusResponse()
            if let record = manager.findImage(request.image.image) { response.image = manager.criImage(record) }
            return response
        }
    }

    public func pullImage(request: Runtime_V1_PullImageRequest, context: ServerContext) async throws -> Runtime_V1_PullImageResponse {
        var response = Runtime_V1_PullImageResponse()
        do {
            response.imageRef = try await manager.pullImage(request.image.image, auth: request.hasAuth ? request.auth : nil)
        } catch {
            throw error.rpcError
        }
        return response
    }

    public func removeImage(request: Runtime_V1_RemoveImageRequest, context: ServerContext) async throws -> Runtime_V1_RemoveImageResponse {
        let manager = manager
        try await run { () throws(CRIError) in try manager.removeImage(request.image.image) }
        return Runtime_V1_RemoveImageResponse()
    }

    public func imageFsInfo(request: Runtime_V1_ImageFsInfoRequest, context: ServerContext) async throws -> Runtime_V1_ImageFsInfoResponse {
        let manager = manager
        return try await run { () throws(CRIError) in
            var response = Runtime_V1_ImageFsInfoResponse()
            response.imageFilesystems = [manager.imageFilesystemUsage()]
            return response
        }
    }
}
