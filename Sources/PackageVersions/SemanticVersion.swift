/// Semantic Versioning 2.0.0 (npm, crates.io) and Go module versions (`v` prefix,
/// `+incompatible`, pseudo-versions, which are valid semver): major.minor.patch, a
/// pre-release (identifiers compared one by one, numbers below words, a longer list
/// newer when all else is equal) before the release itself, build metadata ignored.
public struct SemanticVersion: Sendable, Hashable {
    public let major: UInt64
    public let minor: UInt64
    public let patch: UInt64
    public let prerelease: [Identifier]

    public enum Identifier: Sendable, Hashable {
        case number(UInt64)
        case text(String)
    }

    /// `lenient` accepts what npm's loose mode and Go's tooling do: a leading `v` or `=`,
    /// and missing minor or patch numbers (taken as 0).
    public init(parsing text: String, lenient: Bool = true) throws(VersionError) {
        func fail(_ reason: String) -> VersionError { .invalid(scheme: "semver", version: text, reason: reason) }
        var body = Substring(text.trimmingSpaces())
        if lenient, let first = body.first, first == "v" || first == "V" || first == "=" { body = body.dropFirst() }
        if let plus = body.firstIndex(of: "+") { body = body[..<plus] }
        var pre: Substring = ""
        if let dash = body.firstIndex(of: "-") {
            pre = body[body.index(after: dash)...]
            body = body[..<dash]
            guard !pre.isEmpty else { throw fail("empty pre-release") }
        }
        let numbers = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (lenient ? 1...3 : 3...3).contains(numbers.count) else { throw fail("not MAJOR.MINOR.PATCH") }
        var parsed: [UInt64] = []
        for number in numbers {
            guard !number.isEmpty, number.utf8.allSatisfy(isDigit), let value = UInt64(number) else {
                throw fail("\"\(number)\" is not a number")
            }
            parsed.append(value)
        }
        while parsed.count < 3 { parsed.append(0) }
        major = parsed[0]
        minor = parsed[1]
        patch = parsed[2]
        var identifiers: [Identifier] = []
        if !pre.isEmpty {
            for part in pre.split(separator: ".", omittingEmptySubsequences: false) {
                guard !part.isEmpty else { throw fail("empty pre-release identifier") }
                if part.utf8.allSatisfy(isDigit), let value = UInt64(part) {
                    identifiers.append(.number(value))
                } else {
                    identifiers.append(.text(String(part)))
                }
            }
        }
        prerelease = identifiers
    }

    public static func compare(_ a: SemanticVersion, _ b: SemanticVersion) -> Int {
        for (left, right) in [(a.major, b.major), (a.minor, b.minor), (a.patch, b.patch)] where left != right {
            return left < right ? -1 : 1
        }
        switch (a.prerelease.isEmpty, b.prerelease.isEmpty) {
        case (true, true): return 0
        case (true, false): return 1
        case (false, true): return -1
        case (false, false): break
        }
        for (left, right) in zip(a.prerelease, b.prerelease) {
            switch (left, right) {
            case (.number(let x), .number(let y)): if x != y { return x < y ? -1 : 1 }
            case (.number, .text): return -1
            case (.text, .number): return 1
            case (.text(let x), .text(let y)): if x != y { return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1 }
            }
        }
        return a.prerelease.count == b.prerelease.count ? 0 : (a.prerelease.count < b.prerelease.count ? -1 : 1)
    }
}
