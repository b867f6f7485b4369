/// A reference to content: what it is (media type), its digest and size. Every link
/// between image documents is a descriptor, and every fetch is checked against one.
public struct Descriptor: Codable, Sendable, Equatable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: Platform?
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil,
                platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }
}

/// An operating system and CPU architecture, as index entries and image configs name them.
public struct Platform: Codable, Sendable, Equatable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var osFeatures: [String]?
    public var variant: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    public var description: String {
        "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "")
    }

    /// Parses `os/arch[/variant]` as `--platform` takes it.
    public init(parsing text: String) throws(ImageSpecError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts.count <= 3, !parts.contains(where: \.isEmpty) else {
            throw ImageSpecError.invalidDocument(what: "platform \"\(text)\"", reason: "expected OS/ARCH[/VARIANT]")
        }
        self.init(os: parts[0], architecture: Platform.normalizedArchitecture(parts[1]),
                  variant: parts.count == 3 ? parts[2] : nil)
    }

    /// The platform this process runs on, in Go's names (amd64, arm64, ...).
    public static var current: Platform {
        #if arch(x86_64)
        return Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        return Platform(os: "linux", architecture: "arm64", variant: "v8")
        #else
        return Platform(os: "linux", architecture: "unknown")
        #endif
    }

    static func normalizedArchitecture(_ arch: String) -> String {
        switch arch {
        case "x86_64", "x86-64": return "amd64"
        case "aarch64": return "arm64"
        default: return arch
        }
    }

    /// Whether an index entry for `candidate` serves a request for this platform. A missing
    /// variant on either side matches (arm64 images rarely name v8).
    public func matches(_ candidate: Platform) -> Bool {
        guard candidate.os == os, Platform.normalizedArchitecture(candidate.architecture) == architecture else {
            return false
        }
        if let wanted = variant, let offered = candidate.variant { return wanted == offered }
        return true
    }
}
