/// A version that its ecosystem's rules cannot read: the scheme, the text and why.
public enum VersionError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(scheme: String, version: String, reason: String)
    /// An OSV ecosystem this module has no ordering for.
    case unknownEcosystem(String)

    public var description: String {
        switch self {
        case .invalid(let scheme, let version, let reason): return "invalid \(scheme) version \"\(version)\": \(reason)"
        case .unknownEcosystem(let name): return "no version ordering known for ecosystem \"\(name)\""
        }
    }
}
