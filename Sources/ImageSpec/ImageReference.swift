/// An image reference such as `busybox`, `localhost:5000/x:1` or `quay.io/a/b@sha256:...`,
/// normalised by Docker's rules: no registry means docker.io, a single path component on
/// docker.io lives under `library/`, and no tag or digest means `latest`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Registry host, with port if any (`docker.io`, `127.0.0.1:5000`).
    public var registry: String
    /// Repository path inside the registry (`library/busybox`).
    public var repository: String
    public var tag: String?
    public var digest: Digest?
    /// Whether the text named a registry itself; unqualified names may be searched for
    /// in the configured unqualified-search registries.
    public var isQualified: Bool

    public static let defaultRegistry = "docker.io"
    public static let defaultTag = "latest"

    public init(registry: String, repository: String, tag: String?, digest: Digest?, isQualified: Bool = true) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
        self.isQualified = isQualified
    }

    public init(parsing text: String) throws(ImageSpecError) {
        guard !text.isEmpty else { throw ImageSpecError.invalidReference(text, "empty") }
        guard text.utf8.count <= 4096 else { throw ImageSpecError.invalidReference(String(text.prefix(40)) + "...", "too long") }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let candidate = String(rest[rest.index(after: colon)...])
            guard ImageReference.isValidTag(candidate) else {
                throw ImageSpecError.invalidReference(text, "tag \"\(candidate)\" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
            }
            tag = candidate
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !components.isEmpty, !components.contains(where: \.isEmpty) else {
            throw ImageSpecError.invalidReference(text, "empty path component")
        }
        var registry = ImageReference.defaultRegistry
        var qualified = false
        if components.count > 1, ImageReference.looksLikeRegistry(components[0]) {
            registry = components.removeFirst()
            qualified = true
            if registry == "index.docker.io" || registry == "registry-1.docker.io" { registry = "docker.io" }
        }
        for component in components where !ImageReference.isValidPathComponent(component) {
            throw ImageSpecError.invalidReference(
                text, "repository name component \"\(component)\" must be lower-case letters, digits and separators (. _ __ -)")
        }
        if registry == ImageReference.defaultRegistry, components.count == 1 {
            components.insert("library", at: 0)
        }
        let repository = components.joined(separator: "/")
        guard repository.utf8.count <= 255 else { throw ImageSpecError.invalidReference(text, "repository name is longer than 255") }
        self.init(registry: registry, repository: repository,
                  tag: tag ?? (digest == nil ? ImageReference.defaultTag : nil),
                  digest: digest, isQualified: qualified)
    }

    /// `registry/repository`, the name without tag or digest.
    public var name: String { "\(registry)/\(repository)" }

    /// The full normalised form (`docker.io/library/busybox:latest`).
    public var description: String {
        var text = name
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The tag or digest to ask the registry for.
    public var manifestReference: String { digest?.description ?? tag ?? ImageReference.defaultTag }

    /// The same repository in another registry (for unqualified search), with Docker's
    /// `library/` rule applied or removed as the registry requires.
    public func inRegistry(_ host: String) -> ImageReference {
        var path = repository
        if registry == ImageReference.defaultRegistry, path.hasPrefix("library/"), !isQualified {
            path = String(path.dropFirst("library/".count))
        }
        if host == ImageReference.defaultRegistry, !path.contains("/") { path = "library/" + path }
        return ImageReference(registry: host, repository: path, tag: tag, digest: digest, isQualified: true)
    }

    static func looksLikeRegistry(_ component: String) -> Bool {
        component.contains(".") || component.contains(":") || component == "localhost"
            || component.contains(where: { $0.isUppercase })
    }

    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard !bytes.isEmpty, bytes.count <= 128 else { return false }
        func word(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x5f }
        guard word(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy { word($0) || $0 == 0x2e || $0 == 0x2d }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ component: String) -> Bool {
        let bytes = Array(component.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a) }
        var i = 0
        guard !bytes.isEmpty, alnum(bytes[0]), alnum(bytes[bytes.count - 1]) else { return false }
        while i < bytes.count {
            if alnum(bytes[i]) { i += 1; continue }
            var j = i
            while j < bytes.count, !alnum(bytes[j]) { j += 1 }
            let separator = bytes[i..<j]
            let ok = separator.elementsEqual([0x2e]) || separator.elementsEqual([0x5f]) || separator.elementsEqual([0x5f, 0x5f])
                || separator.allSatisfy { $0 == 0x2d }
            if !ok { return false }
            i = j
        }
        return true
    }
}

/// The identity of a stack of layers (OCI image spec): ChainID(L0) = DiffID(L0),
/// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
public enum ChainID {
    public static func chain(_ diffIDs: [Digest]) -> [Digest] {
        var chain: [Digest] = []
        for diffID in diffIDs {
            if let parent = chain.last {
                chain.append(Digest.sha256(of: Array("\(parent) \(diffID)".utf8)))
            } else {
                chain.append(diffID)
            }
        }
        return chain
    }
}
