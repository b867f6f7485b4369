import ImageSpec
import Images

/// Where a build stage stands after each step: the layers so far (the base image's and
/// the ones the stage's steps made), the run configuration the image will carry, and its
/// history. Steps take a state and give the next; the last becomes an image.
public struct BuildState: Sendable {
    public var layers: [CommittedLayer]
    public var config: ImageConfig.RunConfig
    public var history: [ImageConfig.History]
    public var platform: Platform

    public init(layers: [CommittedLayer] = [], config: ImageConfig.RunConfig = ImageConfig.RunConfig(),
                history: [ImageConfig.History] = [], platform: Platform = .current) {
        self.layers = layers
        self.config = config
        self.history = history
        self.platform = platform
    }

    /// The state of `FROM image`: its layers, configuration and history.
    public init(image: ImageRecord, in service: ImageService) throws(ImageError) {
        let config = try service.config(of: image)
        let manifest = try service.manifest(of: image)
        guard manifest.layers.count == config.rootfs.diff_ids.count else {
            throw .invalid("image \(image.id.encoded.prefix(12)): its manifest lists \(manifest.layers.count) layers, its config \(config.rootfs.diff_ids.count)")
        }
        self.init(layers: zip(manifest.layers, config.rootfs.diff_ids).map { CommittedLayer(descriptor: $0, diffID: $1) },
                  config: config.config ?? ImageConfig.RunConfig(), history: config.history ?? [],
                  platform: Platform(os: config.os, architecture: config.architecture, variant: config.variant))
    }

    /// The state after a step that made `layer` (or no layer: an `empty_layer` entry).
    public func adding(_ layer: CommittedLayer?, createdBy: String, created: String?) -> BuildState {
        var next = self
        if let layer { next.layers.append(layer) }
        next.history.append(ImageConfig.History(created: created, createdBy: createdBy, emptyLayer: layer == nil ? true : nil))
        return next
    }
}
