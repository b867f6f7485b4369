import Foundation
import Images

/// Runs a command in a local image the way the engine will: mount the image's root
/// filesystem, write config.json from the image config, `caisson-runtime run`.
struct ImageRunner {
    let cli: CaissonCLI

    func run(_ image: String, _ command: [String]? = nil, user: String? = nil, env: [String] = [],
             driver: SnapshotStore.Driver? = nil) throws -> Shell.Result {
        let service = try ImageService(ImageStoreOptions(root: cli.root + "/store", registriesConf: cli.registriesConf, driver: driver))
        let record = try service.resolve(image)
        let id = Scratch.uniqueID("run")
        let bundle = try Scratch.directory("bundle")
        defer { try? FileManager.default.removeItem(atPath: bundle) }
        try service.mountRootfs(record, id: id, target: bundle + "/rootfs")
        defer { try? service.unmountRootfs(id: id, target: bundle + "/rootfs") }
        var overrides = RunOverrides()
        overrides.command = command
        overrides.user = user
        overrides.env = env
        try service.writeBundleConfig(record, bundle: bundle, overrides: overrides)
        let state = try Scratch.directory("state")
        defer { try? FileManager.default.removeItem(atPath: state) }
        return try Shell.run(CaissonCLI.runtimeBinary, ["--root", state, "run", "--bundle", bundle, id], timeout: 60)
    }
}
