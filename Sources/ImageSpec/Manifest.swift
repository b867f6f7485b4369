import CaissonJSON

/// An image manifest (OCI or Docker schema 2): one config and the ordered layers.
public struct Manifest: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }

    /// Parses and checks a manifest; `mediaType` is what the registry or the index said it is.
    public static func parse(_ bytes: [UInt8], mediaType: String? = nil) throws(ImageSpecError) -> Manifest {
        let manifest = try decodeDocument(Manifest.self, bytes, what: "image manifest")
        guard manifest.schemaVersion == 2 else {
            throw ImageSpecError.invalidDocument(what: "image manifest",
                                                 reason: "schemaVersion \(manifest.schemaVersion) is not supported (2 is)")
        }
        if let declared = manifest.mediaType, !MediaType.isManifest(declared) {
            throw ImageSpecError.invalidDocument(what: "image manifest", reason: "mediaType is \"\(declared)\"")
        }
        for layer in manifest.layers {
            _ = try LayerCompression(mediaType: layer.mediaType)
            guard layer.size >= 0 else {
                throw ImageSpecError.invalidDocument(what: "image manifest", reason: "layer \(layer.digest) has a negative size")
            }
        }
        return manifest
    }

    public func encoded() -> [UInt8] {
        (try? JSONEncoding.encode(self)) ?? []
    }
}

/// An image index (OCI) or manifest list (Docker): one manifest per platform.
public struct ImageIndex: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    public static func parse(_ bytes: [UInt8]) throws(ImageSpecError) -> ImageIndex {
        let index = try decodeDocument(ImageIndex.self, bytes, what: "image index")
        guard index.schemaVersion == 2 else {
            throw ImageSpecError.invalidDocument(what: "image index",
                                                 reason: "schemaVersion \(index.schemaVersion) is not supported (2 is)")
        }
        return index
    }

    /// The manifest for a platform, or nil when the index has none for it.
    public func manifest(for platform: Platform) -> Descriptor? {
        manifests.first { entry in
            MediaType.isManifest(entry.mediaType) && (entry.platform.map(platform.matches) ?? false)
        }
    }

    public func encoded() -> [UInt8] {
        (try? JSONEncoding.encode(self)) ?? []
    }
}

/// The kind of a manifest-like document whose media type was not declared by the transport:
/// decided from its own `mediaType` field or, failing that, from its shape.
public enum ManifestKind: Sendable, Equatable {
    case manifest, index

    public static func detect(_ bytes: [UInt8], declared: String?) throws(ImageSpecError) -> ManifestKind {
        if let declared, MediaType.isIndex(declared) { return .index }
        if let declared, MediaType.isManifest(declared) { return .manifest }
        guard case .object(let object)? = try? JSONParser.parse(bytes) else {
            throw ImageSpecError.invalidDocument(what: "manifest", reason: "not a JSON object")
        }
        if case .string(let type)? = object["mediaType"] {
            if MediaType.isIndex(type) { return .index }
            if MediaType.isManifest(type) { return .manifest }
            throw ImageSpecError.unsupportedMediaType(type)
        }
        if object["manifests"] != nil { return .index }
        if object["layers"] != nil { return .manifest }
        if case .number(let version)? = object["schemaVersion"], version == "1" {
            throw ImageSpecError.invalidDocument(what: "manifest", reason: "Docker schema 1 manifests are not supported")
        }
        throw ImageSpecError.invalidDocument(what: "manifest", reason: "neither a manifest nor an index")
    }
}

func decodeDocument<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws(ImageSpecError) -> T {
    do {
        return try JSONDecoding.decode(T.self, from: bytes)
    } catch let error as DecodingError {
        throw ImageSpecError.invalidDocument(what: what, reason: describe(error))
    } catch {
        throw ImageSpecError.invalidDocument(what: what, reason: "\(error)")
    }
}

/// A one-line account of a decoding failure, naming the field.
public func describe(_ error: DecodingError) -> String {
    func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the document" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
    switch error {
    case .typeMismatch(let type, let context):
        return "\(path(context.codingPath)): expected \(type), \(context.debugDescription)"
    case .valueNotFound(let type, let context):
        return "\(path(context.codingPath)): missing \(type)"
    case .keyNotFound(let key, let context):
        return "\(path(context.codingPath + [key])) is required"
    case .dataCorrupted(let context):
        return "\(path(context.codingPath)): \(context.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}
