#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// When an SBOM was made, in whole seconds: both formats want an RFC 3339 UTC time
/// ("2024-05-06T07:08:09Z"), SPDX without fractions.
public struct SBOMTimestamp: Sendable, Hashable {
    public var secondsSince1970: Int

    public init(secondsSince1970: Int) {
        self.secondsSince1970 = secondsSince1970
    }

    public static func now() -> SBOMTimestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return SBOMTimestamp(secondsSince1970: Int(now.tv_sec))
    }

    /// "YYYY-MM-DDThh:mm:ssZ".
    public var rfc3339: String {
        let precise = Clock.rfc3339(seconds: secondsSince1970, nanoseconds: 0)
        guard let dot = precise.lastIndex(of: ".") else { return precise }
        return String(precise[..<dot]) + "Z"
    }
}
