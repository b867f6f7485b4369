import CaissonJSON

/// The image configuration document: how to run the image and which uncompressed layers
/// (diff ids) make up its root filesystem.
public struct ImageConfig: Codable, Sendable, Equatable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: RunConfig?
    public var rootfs: RootFS
    public var history: [History]?

    public struct RunConfig: Codable, Sendable, Equatable {
        public var User: String?
        public var ExposedPorts: [String: EmptyObject]?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var Volumes: [String: EmptyObject]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var StopSignal: String?
        /// Docker's extensions, which OCI tools carry along: HEALTHCHECK, ONBUILD, SHELL.
        public var Healthcheck: HealthConfig?
        public var OnBuild: [String]?
        public var Shell: [String]?

        public init() {}
    }

    /// A HEALTHCHECK: the test (`["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]`) and its
    /// timings in nanoseconds, as docker writes them.
    public struct HealthConfig: Codable, Sendable, Equatable {
        public var Test: [String]?
        public var Interval: Int64?
        public var Timeout: Int64?
        public var StartPeriod: Int64?
        public var StartInterval: Int64?
        public var Retries: Int?

        public init(test: [String]? = nil) {
            Test = test
        }
    }

    public struct RootFS: Codable, Sendable, Equatable {
        public var type: String
        public var diff_ids: [Digest]

        public init(diffIDs: [Digest]) {
            self.type = "layers"
            self.diff_ids = diffIDs
        }
    }

    public struct History: Codable, Sendable, Equatable {
        public var created: String?
        public var created_by: String?
        public var comment: String?
        public var empty_layer: Bool?

        public init(created: String?, createdBy: String?, comment: String? = nil, emptyLayer: Bool? = nil) {
            self.created = created
            self.created_by = createdBy
            self.comment = comment
            self.empty_layer = emptyLayer
        }
    }

    public init(platform: Platform, config: RunConfig, diffIDs: [Digest], created: String?, history: [History]? = nil) {
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.config = config
        self.rootfs = RootFS(diffIDs: diffIDs)
        self.created = created
        self.history = history
    }

    public static func parse(_ bytes: [UInt8]) throws(ImageSpecError) -> ImageConfig {
        let config = try decodeDocument(ImageConfig.self, bytes, what: "image config")
        guard config.rootfs.type == "layers" else {
            throw ImageSpecError.invalidDocument(what: "image config", reason: "rootfs.type is \"\(config.rootfs.type)\", not \"layers\"")
        }
        return config
    }

    public func encoded() -> [UInt8] {
        (try? JSONEncoding.encode(self)) ?? []
    }
}

/// `{}`, the value type of the port and volume sets in an image config.
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
    public init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: AnyCodingKey.self) }
    public func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: AnyCodingKey.self) }
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
