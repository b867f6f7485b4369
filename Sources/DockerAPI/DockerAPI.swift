import Engine
import NIOPosix

/// The Docker Engine API over one `ContainerEngine` (the same containers and images as
/// `caisson` with the same --root and --runroot): its routes, and the thread pool the
/// engine's blocking calls (runtime, monitor, files, SQLite) run on, away from the
/// event loop.
public final class DockerAPI: Sendable {
    public let engine: ContainerEngine
    let pool: NIOThreadPool
    /// Clients attached to containers that are not running yet.
    let attaches = PendingAttaches()
    /// The exec instances made through this API (docker keeps them in memory too).
    let execs = ExecStore()

    public init(engine: ContainerEngine, threads: Int = 8) {
        self.engine = engine
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// Runs blocking engine work on the pool.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }

    /// Every endpoint of this API; others answer 404.
    public func router() -> Router {
        var router = Router()
        addSystemRoutes(&router)
        addContainerRoutes(&router)
        addContainerLogRoute(&router)
        addAttachRoutes(&router)
        addExecRoutes(&router)
        addContainerUpdateRoute(&router)
        addContainerTopRoute(&router)
        addContainerPruneRoute(&router)
        addImageRoutes(&router)
        addImagePullRoute(&router)
        addImageBuildRoute(&router)
        addBuildPruneRoute(&router)
        addImageArchiveRoutes(&router)
        addImagePushRoute(&router)
        addImageHistoryPruneRoutes(&router)
        addRegistryRoutes(&router)
        addImageSearchRoute(&router)
        addNetworkRoutes(&router)
        addVolumeRoutes(&router)
        addNetworkConnectRoutes(&router)
        addStatsRoute(&router)
        addArchiveRoutes(&router)
        addCommitRoute(&router)
        addEventsRoute(&router)
        addSystemDFRoute(&router)
        return router
    }
}
