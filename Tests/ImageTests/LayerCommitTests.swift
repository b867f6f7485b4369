import CaissonShim
import Foundation
import ImageSpec
import Images
import Testing

/// Directories of changes committed as layers and images: the blob's digests, the
/// adopted snapshot, whiteouts taking effect, history and names.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LayerCommitTests {
    @Test func changesBecomeLayersAndAnImage() throws {
        let root = try Scratch.directory("commit-store")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let service = try ImageService(ImageStoreOptions(root: root + "/store", driver: .overlay))

        // A base layer from a plain tree, then a step's changes in overlayfs's form.
        let first = try Scratch.directory("commit-first")
        try Shell.run("/bin/sh", ["-ec", "mkdir -p \(first)/etc \(first)/old; echo base > \(first)/etc/base; echo gone > \(first)/old/f"])
        let baseLayer = try #require(try service.commitLayer(upperDirectory: first, compression: .none))
        #expect(baseLayer.descriptor.mediaType == MediaType.ociLayer)
        #expect(baseLayer.descriptor.digest == baseLayer.diffID)
        var baseConfig = ImageConfig.RunConfig()
        baseConfig.Env = ["PATH=/bin"]
        let base = try service.commitImage(base: nil, newLayers: [baseLayer], config: baseConfig,
                                           history: [.init(created: nil, createdBy: "COPY . /")], names: ["commit/base:1"])

        let upper = try Scratch.directory("commit-upper")
        try Shell.run("/bin/sh", ["-ec", "mkdir -p \(upper)/etc; echo new > \(upper)/etc/new; mknod \(upper)/old c 0 0"])
        let step = try #require(try service.commitLayer(upperDirectory: upper, timestamp: 0, adopt: true))
        #expect(step.descriptor.mediaType == MediaType.ociLayerGzip)
        #expect(step.descriptor.digest != step.diffID)
        #expect(!FileManager.default.fileExists(atPath: upper))  // adopted
        #expect(service.snapshots.hasLayer(step.diffID))
        // The blob in the store hashes to its name.
        let blob = try Data(contentsOf: URL(fileURLWithPath: service.content.path(for: step.descriptor.digest)))
        #expect(Int64(blob.count) == step.descriptor.size)

        // Nothing changed: no layer.
        let empty = try Scratch.directory("commit-empty")
        #expect(try service.commitLayer(upperDirectory: empty) == nil)

        var config = baseConfig
        config.Cmd = ["/bin/sh"]
        config.Healthcheck = ImageConfig.HealthConfig(test: ["CMD-SHELL", "true"])
        let image = try service.commitImage(
            base: base, newLayers: [step], config: config,
            history: [.init(created: nil, createdBy: "RUN make"), .init(created: nil, createdBy: "CMD [\"/bin/sh\"]", emptyLayer: true)],
            names: ["commit/app:latest"])
        #expect(try service.resolve("commit/app:latest").id == image.id)
        let written = try service.config(of: image)
        #expect(written.rootfs.diff_ids == [baseLayer.diffID, step.diffID])
        #expect(written.history?.map(\.created_by) == ["COPY . /", "RUN make", "CMD [\"/bin/sh\"]"])
        #expect(written.config?.Healthcheck?.Test == ["CMD-SHELL", "true"])
        #expect(try service.manifest(of: image).layers.map(\.digest) == [baseLayer.descriptor.digest, step.descriptor.digest])

        // Mounted, the image shows the step's file and not what it deleted.
        let target = try Scratch.directory("commit-rootfs")
        let id = Scratch.uniqueID("commit")
        try service.mountRootfs(image, id: id, target: target)
        defer { try? service.unmountRootfs(id: id, target: target) }
        #expect(FileManager.default.fileExists(atPath: target + "/etc/base"))
        #expect(FileManager.default.fileExists(atPath: target + "/etc/new"))
        #expect(!FileManager.default.fileExists(atPath: target + "/old"))
    }
}
