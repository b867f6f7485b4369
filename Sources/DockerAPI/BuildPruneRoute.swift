import Builder
import CaissonJSON

/// `POST /build/prune` (`docker builder prune`, and the last step of `docker system
/// prune`): forgets the cached build steps and the cache mounts, sweeps what dead builds
/// left, and collects the blobs nothing holds any more, as `caisson builder prune` does.
/// The answer is dockerd's: `CachesDeleted` (the cache keys) and `SpaceReclaimed`.
/// Caisson's cache has no per-entry age or size budget, so `keep-storage` and filters
/// (`until`, ...) are refused by name rather than ignored.
extension DockerAPI {
    func addBuildPruneRoute(_ router: inout Router) {
        router.add(.POST, "/build/prune") { [self] request in
            if let keep = try request.int("keep-storage"), keep != 0 {
                throw DockerAPIError.badParameter("invalid parameter keep-storage: Caisson's build cache has no size budget; prune it whole")
            }
            let filters = try FilterQuery.values(request.string("filters"))
            if let name = filters.keys.sorted().first {
                throw DockerAPIError.badParameter("invalid filter '\(name)': Caisson's build cache is pruned whole")
            }
            let service = engine.images
            let runtime = try? engine.resolveRuntime("caisson-runtime")
            let runtimeRoot = runtime.map { engine.runtimeRoot(for: $0) }
            let pruned = try await blocking { try BuildCache.prune(images: service, runtime: runtime, runtimeRoot: runtimeRoot) }
            var answer = JSONObject()
            answer.set("CachesDeleted", pruned.keys.isEmpty ? .null : .strings(pruned.keys))
            answer.set("SpaceReclaimed", .int(Int(pruned.reclaimed)))
            return .json(answer)
        }
    }
}
