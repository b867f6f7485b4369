import Testing
@testable import PackageVersions

/// The OSV schema's evaluation of `affected` ranges, on both sides of each boundary.
@Suite struct RangeTests {
    func affected(_ version: String, _ events: [OSVRangeEvent], type: OSVRangeType = .ecosystem,
                  versions: [String] = [], scheme: VersionScheme = .dpkg) throws -> AffectedRanges.Verdict {
        try AffectedRanges(ranges: [OSVVersionRange(type: type, events: events)], versions: versions)
            .evaluate(version, scheme: scheme)
    }

    @Test func introducedAndFixed() throws {
        let events: [OSVRangeEvent] = [.introduced("0"), .fixed("2.36-9+deb12u4")]
        #expect(try affected("2.36-9+deb12u3", events).affected)
        #expect(try affected("2.36-9+deb12u3", events).fixedVersions == ["2.36-9+deb12u4"])
        #expect(try !affected("2.36-9+deb12u4", events).affected)
        #expect(try !affected("2.36-9+deb12u10", events).affected)
        #expect(try affected("2.36-9", events).affected)
    }

    @Test func introducedLaterThanZero() throws {
        let events: [OSVRangeEvent] = [.introduced("1.2"), .fixed("1.5")]
        #expect(try !affected("1.1", events).affected)
        #expect(try affected("1.2", events).affected)
        #expect(try affected("1.4.9", events).affected)
        #expect(try !affected("1.5", events).affected)
    }

    @Test func lastAffectedIsIncluded() throws {
        let events: [OSVRangeEvent] = [.introduced("0"), .lastAffected("3.0.2")]
        #expect(try affected("3.0.2", events, scheme: .pep440).affected)
        #expect(try affected("3.0.2", events, scheme: .pep440).fixedVersions.isEmpty)
        #expect(try !affected("3.0.3", events, scheme: .pep440).affected)
        #expect(try !affected("3.0.2.post1", events, scheme: .pep440).affected)
    }

    @Test func severalIntervalsInOneRange() throws {
        // Affected in [1.0, 1.2) and [2.0, 2.3): events out of order in the advisory.
        let events: [OSVRangeEvent] = [.introduced("2.0.0"), .fixed("1.2.0"), .introduced("1.0.0"), .fixed("2.3.0")]
        #expect(try !affected("0.9.0", events, type: .semver, scheme: .semver).affected)
        #expect(try affected("1.1.0", events, type: .semver, scheme: .semver).fixedVersions == ["1.2.0"])
        #expect(try !affected("1.5.0", events, type: .semver, scheme: .semver).affected)
        #expect(try affected("2.2.9", events, type: .semver, scheme: .semver).fixedVersions == ["2.3.0"])
        #expect(try !affected("2.3.0", events, type: .semver, scheme: .semver).affected)
    }

    @Test func limitCapsTheRange() throws {
        let events: [OSVRangeEvent] = [.introduced("0"), .limit("1.5")]
        #expect(try affected("1.4", events, scheme: .pep440).affected)
        #expect(try !affected("1.5", events, scheme: .pep440).affected)
        #expect(try !affected("2.0", events, scheme: .pep440).affected)
    }

    @Test func explicitVersionsAndGitRanges() throws {
        let git: [OSVRangeEvent] = [.introduced("0"), .fixed("abcdef0123")]
        #expect(try !affected("1.0", git, type: .git, scheme: .pep440).affected)
        #expect(try affected("1.0.0", git, type: .git, versions: ["1.0"], scheme: .pep440).affected)
        #expect(try !affected("1.0.1", git, type: .git, versions: ["1.0"], scheme: .pep440).affected)
    }

    @Test func epochsAndTildesInDebianRanges() throws {
        let events: [OSVRangeEvent] = [.introduced("0"), .fixed("1:1.2.13.dfsg-1+deb12u1")]
        #expect(try affected("1:1.2.13.dfsg-1", events).affected)
        #expect(try !affected("1:1.2.13.dfsg-1+deb12u1", events).affected)
        #expect(try affected("1.3", events).affected, "no epoch is epoch 0, below 1:")
        let tilde: [OSVRangeEvent] = [.introduced("0"), .fixed("3.0.11-1~deb12u2")]
        #expect(try affected("3.0.11-1~deb12u1", tilde).affected)
        #expect(try !affected("3.0.11-1", tilde).affected)
    }

    @Test func unorderableVersionsAreReported() {
        #expect(throws: VersionError.self) {
            try affected("not-a-version", [.introduced("0"), .fixed("1.0")], scheme: .pep440)
        }
    }
}
