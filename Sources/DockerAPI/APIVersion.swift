/// An API version (`1.45`): the server answers 1.24 to 1.45, and says so in `/_ping`'s
/// `Api-Version` header, which is what the docker CLI negotiates down to.
public struct APIVersion: Sendable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public static let current = APIVersion(major: 1, minor: 45)
    public static let minimum = APIVersion(major: 1, minor: 24)

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else { return nil }
        self.init(major: major, minor: minor)
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (a: APIVersion, b: APIVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }

    /// docker's words for a version outside the range.
    func checkSupported() throws(DockerAPIError) {
        if self > .current {
            throw .badParameter("client version \(self) is too new. Maximum supported API version is \(APIVersion.current)")
        }
        if self < .minimum {
            throw .badParameter("client version \(self) is too old. Minimum supported API version is \(APIVersion.minimum), please upgrade your client to a newer version")
        }
    }
}
