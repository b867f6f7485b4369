/// A package URL (the purl specification, github.com/package-url/purl-spec), which SBOM
/// documents and vulnerability databases identify packages by. `description` is the
/// canonical form: components percent-encoded (every byte but letters, digits, `.-_~`
/// and `:`), qualifier keys lowercased and sorted, empty qualifiers dropped, and the
/// normalisations of the types catalogers make (deb, apk and rpm vendors lowercased; deb
/// and apk names lowercased; PyPI names lowercased with `_` as `-`).
public struct PackageURL: Sendable, Hashable, CustomStringConvertible {
    public var type: String
    public var namespace: String?
    public var name: String
    public var version: String?
    public var qualifiers: [String: String]
    public var subpath: String?

    public init(type: String, namespace: String? = nil, name: String, version: String? = nil,
                qualifiers: [String: String] = [:], subpath: String? = nil) {
        self.type = type
        self.namespace = namespace
        self.name = name
        self.version = version
        self.qualifiers = qualifiers
        self.subpath = subpath
    }

    public var description: String {
        let type = PackageURL.asciiLowercased(self.type)
        var text = "pkg:" + type + "/"
        if let namespace, !namespace.isEmpty {
            let segments = namespace.split(separator: "/").map { segment -> String in
                PackageURL.encode(PackageURL.lowercasesNamespace.contains(type) ? PackageURL.asciiLowercased(String(segment)) : String(segment))
            }
            if !segments.isEmpty { text += segments.joined(separator: "/") + "/" }
        }
        text += PackageURL.encode(normalizedName(type: type))
        if let version, !version.isEmpty { text += "@" + PackageURL.encode(version) }
        let pairs = qualifiers.filter { !$0.value.isEmpty }
            .map { PackageURL.asciiLowercased($0.key) + "=" + PackageURL.encode($0.value) }
            .sorted()
        if !pairs.isEmpty { text += "?" + pairs.joined(separator: "&") }
        if let subpath {
            let segments = subpath.split(separator: "/").filter { $0 != "." && $0 != ".." }.map { PackageURL.encode(String($0)) }
            if !segments.isEmpty { text += "#" + segments.joined(separator: "/") }
        }
        return text
    }

    private static let lowercasesNamespace: Set<String> = ["deb", "apk", "rpm", "alpm"]

    private func normalizedName(type: String) -> String {
        let trimmed = String(name.drop { $0 == "/" }.reversed().drop { $0 == "/" }.reversed())
        switch type {
        case "deb", "apk": return PackageURL.asciiLowercased(trimmed)
        case "pypi": return String(PackageURL.asciiLowercased(trimmed).map { $0 == "_" ? "-" : $0 })
        default: return trimmed
        }
    }

    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// Percent-encodes every UTF-8 byte outside the unreserved set and `:`.
    static func encode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
