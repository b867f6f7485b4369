/// The media types of the OCI image spec and Docker's image manifest v2 schema 2.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    public static func isIndex(_ type: String) -> Bool { type == ociIndex || type == dockerManifestList }
    public static func isManifest(_ type: String) -> Bool { type == ociManifest || type == dockerManifest }

    /// What a registry is told we accept when asking for a manifest.
    public static let manifestAccept = [ociIndex, dockerManifestList, ociManifest, dockerManifest]
}

/// How a layer blob is compressed, from its media type.
public enum LayerCompression: Sendable, Equatable {
    case none, gzip, zstd

    public init(mediaType: String) throws(ImageSpecError) {
        switch mediaType {
        case MediaType.ociLayer, MediaType.dockerLayer, "application/vnd.oci.image.layer.nondistributable.v1.tar":
            self = .none
        case MediaType.ociLayerGzip, MediaType.dockerLayerGzip, MediaType.dockerForeignLayerGzip,
             MediaType.ociLayerNondistributableGzip:
            self = .gzip
        case MediaType.ociLayerZstd, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
            self = .zstd
        default:
            throw ImageSpecError.unsupportedMediaType(mediaType)
        }
    }
}

/// The two manifest formats an image can be written in: OCI, or Docker's image manifest
/// v2 schema 2 (`--format docker`, which older registries and tools need). The layers and
/// config are the same bytes; only the media types differ.
public enum ImageFormat: String, Sendable, CaseIterable {
    case oci, docker

    public var manifestMediaType: String { self == .oci ? MediaType.ociManifest : MediaType.dockerManifest }
    public var configMediaType: String { self == .oci ? MediaType.ociConfig : MediaType.dockerConfig }

    /// A layer's media type in this format; nil when the format has none for it (zstd in
    /// Docker's).
    public func layerMediaType(_ type: String) -> String? {
        let compression = try? LayerCompression(mediaType: type)
        let foreign = type == MediaType.dockerForeignLayerGzip || type.contains("nondistributable")
        switch (self, compression) {
        case (.oci, .gzip?): return foreign ? MediaType.ociLayerNondistributableGzip : MediaType.ociLayerGzip
        case (.oci, .none?): return foreign ? type : MediaType.ociLayer
        case (.oci, .zstd?): return foreign ? type : MediaType.ociLayerZstd
        case (.docker, .gzip?): return foreign ? MediaType.dockerForeignLayerGzip : MediaType.dockerLayerGzip
        case (.docker, .none?): return foreign ? nil : MediaType.dockerLayer
        case (.docker, .zstd?), (_, nil): return nil
        }
    }
}
