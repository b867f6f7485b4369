/// One event of an OSV range, in the order the advisory gives them.
public enum OSVRangeEvent: Sendable, Hashable {
    case introduced(String)
    case fixed(String)
    case lastAffected(String)
    case limit(String)

    var version: String {
        switch self {
        case .introduced(let v), .fixed(let v), .lastAffected(let v), .limit(let v): return v
        }
    }
}

/// An OSV range's type: ECOSYSTEM and SEMVER ranges are evaluated; GIT ranges name
/// commits, which a package's version cannot be compared with.
public enum OSVRangeType: String, Sendable, Hashable {
    case ecosystem = "ECOSYSTEM"
    case semver = "SEMVER"
    case git = "GIT"
}

public struct OSVVersionRange: Sendable, Hashable {
    public var type: OSVRangeType
    public var events: [OSVRangeEvent]

    public init(type: OSVRangeType, events: [OSVRangeEvent]) {
        self.type = type
        self.events = events
    }
}

/// Whether an installed version falls in an advisory's `affected` entry, evaluated as
/// the OSV schema defines it: the explicit `versions` list, or any range whose events,
/// sorted by version, leave the version affected (`introduced` opens, with "0" below
/// everything; `fixed` closes at the version; `last_affected` closes after it; `limit`
/// caps every range of the entry).
public struct AffectedRanges: Sendable {
    public var ranges: [OSVVersionRange]
    public var versions: [String]

    public init(ranges: [OSVVersionRange], versions: [String]) {
        self.ranges = ranges
        self.versions = versions
    }

    /// The verdict, with the fixed versions to report (those above the installed one).
    public struct Verdict: Sendable, Hashable {
        public var affected: Bool
        public var fixedVersions: [String]
    }

    public func evaluate(_ version: String, scheme: VersionScheme) throws(VersionError) -> Verdict {
        var affected = versions.contains { scheme.same($0, version) }
        var fixed: [String] = []
        for range in ranges where range.type != .git {
            // SEMVER ranges are semver whatever the ecosystem says.
            let order: VersionScheme = range.type == .semver ? (scheme == .goModule ? .goModule : .semver) : scheme
            let (inRange, fixes) = try evaluate(range, version: version, scheme: order)
            if inRange {
                affected = true
                fixed += fixes
            }
        }
        var unique: [String] = []
        for version in fixed where !unique.contains(version) { unique.append(version) }
        return Verdict(affected: affected, fixedVersions: unique)
    }

    func evaluate(_ range: OSVVersionRange, version: String, scheme: VersionScheme) throws(VersionError) -> (Bool, [String]) {
        func compare(_ a: String, _ b: String) throws(VersionError) -> Int {
            if a == "0" && b == "0" { return 0 }
            if a == "0" { return -1 }
            if b == "0" { return 1 }
            return try scheme.compare(a, b)
        }
        // Stable sort by version: events at one version keep the advisory's order.
        var events = Array(range.events.enumerated())
        var sortError: VersionError?
        events.sort { left, right in
            do throws(VersionError) {
                let order = try compare(left.element.version, right.element.version)
                return order != 0 ? order < 0 : left.offset < right.offset
            } catch {
                sortError = error
                return left.offset < right.offset
            }
        }
        if let sortError { throw sortError }
        var vulnerable = false
        var fixedAbove: String?
        for (_, event) in events {
            switch event {
            case .introduced(let introduced):
                if introduced == "0" { vulnerable = true } else if try compare(version, introduced) >= 0 { vulnerable = true }
            case .fixed(let fixedVersion):
                if (try compare(version, fixedVersion)) >= 0 {
                    vulnerable = false
                } else if vulnerable && fixedAbove == nil {
                    fixedAbove = fixedVersion
                }
            case .lastAffected(let last):
                if (try compare(version, last)) > 0 { vulnerable = false }
            case .limit:
                break
            }
        }
        let limits = range.events.compactMap { event -> String? in
            if case .limit(let limit) = event { return limit }
            return nil
        }
        if vulnerable && !limits.isEmpty {
            var belowSome = false
            for limit in limits {
                if limit == "*" { belowSome = true } else if try compare(version, limit) < 0 { belowSome = true }
            }
            vulnerable = belowSome
        }
        return (vulnerable, vulnerable ? fixedAbove.map { [$0] } ?? [] : [])
    }
}
