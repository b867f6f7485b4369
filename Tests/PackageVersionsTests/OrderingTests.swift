import Testing
@testable import PackageVersions

/// Each ordering against its ecosystem's reference implementation, on the corners each
/// one has: what the reference answers is the expectation, never this module's output.
@Suite struct OrderingTests {
    static func mine(_ scheme: VersionScheme, _ pairs: [(String, String)]) -> [Int?] {
        pairs.map { pair in (try? scheme.compare(pair.0, pair.1)).map { $0 < 0 ? -1 : ($0 > 0 ? 1 : 0) } }
    }

    static func check(_ scheme: VersionScheme, _ pairs: [(String, String)], reference: [Int?]) {
        #expect(reference.count == pairs.count, "the reference answered \(reference.count) of \(pairs.count) pairs")
        let answers = mine(scheme, pairs)
        for (index, pair) in pairs.enumerated() where index < reference.count {
            #expect(answers[index] == reference[index], "\(scheme) \(pair.0) vs \(pair.1): reference \(String(describing: reference[index]))")
        }
    }

    /// Every pair both ways.
    static func bothWays(_ versions: [(String, String)]) -> [(String, String)] {
        versions + versions.map { ($0.1, $0.0) }
    }

    static let dpkgPairs = bothWays([
        ("1.0", "1.0"), ("1.0", "1.0-0"), ("1.0~rc1", "1.0"), ("1.0~rc1", "1.0~rc1~1"), ("1.0~", "1.0"),
        ("1:0.9", "1.0"), ("0:1.0", "1.0"), ("2:1", "1:9"), ("1.0-1", "1.0-1+b1"), ("1.0-1", "1.0-1.1"),
        ("1.0a", "1.0"), ("1.0a", "1.0+"), ("1.0a", "1.0-"), ("1.0.0", "1.0"), ("1.00", "1.0"), ("1.001", "1.1"),
        ("1.10", "1.9"), ("1.2.3-4", "1.2.3-10"), ("2.36-9+deb12u4", "2.36-9+deb12u10"), ("1:1.2.13.dfsg-1", "1:1.2.13-1"),
        ("1.2.13.dfsg-1", "1:1.2.13.dfsg-1"), ("3.0.11-1~deb12u2", "3.0.11-1"), ("1.0+dfsg", "1.0"), ("1.0.", "1.0"),
        ("1.0A", "1.0a"), ("9.99999999999999999999", "10"), ("1.0-1ubuntu1", "1.0-1"), ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12"),
        ("2.4.57-2", "2.4.57-2+b1"), ("0.0~git20230101", "0.0"), ("1.0-1~bpo12+1", "1.0-1"),
    ])

    @Test func dpkgMatchesDpkgCompareVersions() throws {
        Self.check(.dpkg, Self.dpkgPairs, reference: try ReferenceOrderings.dpkg(Self.dpkgPairs))
    }

    static let rpmPairs = bothWays([
        ("1.0", "1.0"), ("1.0", "2.0"), ("2.0.1", "2.0"), ("2.0.1a", "2.0.1"), ("5.5p1", "5.5p2"), ("5.5p10", "5.5p1"),
        ("10xyz", "10.1xyz"), ("xyz10", "xyz10.1"), ("xyz.4", "8"), ("xyz.4", "2"), ("5.5p2", "5.6p1"), ("6.0.rc1", "6.0"),
        ("1.0~rc1", "1.0"), ("1.0~rc1", "1.0~rc2"), ("1.0~rc1~git123", "1.0~rc1"), ("1.0^", "1.0"), ("1.0^git1", "1.0"),
        ("1.0^git1", "1.01"), ("1.0^git1", "1.0^git2"), ("1.0^git1~pre", "1.0^git1"), ("1.0~rc1^git1", "1.0~rc1"),
        ("1.0-1", "1.0-2"), ("1:1.0-1", "2.0-1"), ("1.0-1.el9", "1.0-1.el9_1"), ("2.34-60.el9", "2.34-100.el9"),
        ("1.00", "1.0"), ("a", "1"), ("1.0a", "1.0.a"), ("+1", "1"), ("1.0", "1.0.0"),
    ])

    @Test func rpmMatchesRpmLabelCompare() throws {
        Self.check(.rpm, Self.rpmPairs, reference: try ReferenceOrderings.rpm(Self.rpmPairs))
    }

    static let pep440Pairs = bothWays([
        ("1.0", "1.0.0"), ("1.0", "1.0.post1"), ("1.0.dev1", "1.0a1"), ("1.0a1", "1.0b1"), ("1.0b1", "1.0rc1"),
        ("1.0rc1", "1.0"), ("1.0RC1", "1.0rc1"), ("1.0c1", "1.0rc1"), ("1.0alpha1", "1.0a1"), ("1.0-1", "1.0.post1"),
        ("1.0.post1.dev1", "1.0.post1"), ("1.0a1.dev1", "1.0a1"), ("1!0.1", "2.0"), ("v1.2", "1.2"), ("1.0+local.1", "1.0"),
        ("1.0+local.1", "1.0+local.a"), ("1.0+abc.5", "1.0+abc.10"), ("1.0+1", "1.0+1.0"), ("1.0_a_1", "1.0a1"),
        ("2.31.0", "2.4.0"), ("1.0rc", "1.0rc0"), ("1.0.post", "1.0.post0"), ("1.0.dev", "1.0.dev0"), ("1.0-r1", "1.0.post1"),
        ("1.0pre1", "1.0rc1"), ("1.0preview2", "1.0rc2"), ("0.9", "1.0.dev0"), (" 1.0 ", "1.0"),
        ("1.0x", "1.0"), ("1.0.post1-1", "1.0"), ("not a version", "1.0"), ("1..0", "1.0"),
    ])

    @Test func pep440MatchesPythonPackaging() throws {
        Self.check(.pep440, Self.pep440Pairs, reference: try ReferenceOrderings.pep440(Self.pep440Pairs))
    }

    static let semverPairs = bothWays([
        ("1.0.0", "1.0.0"), ("1.0.0-alpha", "1.0.0"), ("1.0.0-alpha", "1.0.0-alpha.1"), ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-alpha.beta", "1.0.0-beta"), ("1.0.0-beta.2", "1.0.0-beta.11"), ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc.1", "1.0.0"), ("1.0.0+build.1", "1.0.0+build.2"), ("v1.2.3", "1.2.3"), ("2.0.0", "10.0.0"),
        ("1.2.3-1", "1.2.3-a"), ("0.0.0-20230101000000-abcdef123456", "0.0.1"), ("4.17.20", "4.17.21"),
        ("1.2.3-x.7.z.92", "1.2.3-x.7.z.93"),
    ])

    @Test func semverMatchesNpmSemver() throws {
        Self.check(.semver, Self.semverPairs, reference: try ReferenceOrderings.npmSemver(Self.semverPairs))
    }

    static let mavenPairs = bothWays([
        ("1", "1.0"), ("1.0", "1.0.0"), ("1-alpha", "1"), ("1-alpha-1", "1-alpha-2"), ("1.0-alpha1", "1.0-alpha-1"),
        ("1.0-a1", "1.0-alpha1"), ("1.0-b1", "1.0-beta1"), ("1.0-m1", "1.0-milestone1"), ("1.0-rc1", "1.0-cr1"),
        ("1.0-alpha", "1.0-beta"), ("1.0-beta", "1.0-milestone"), ("1.0-milestone", "1.0-rc"), ("1.0-rc", "1.0-snapshot"),
        ("1.0-SNAPSHOT", "1.0"), ("1.0", "1.0-ga"), ("1.0-final", "1.0"), ("1.0-release", "1.0"), ("1.0", "1.0-sp"),
        ("1.0-sp", "1.0-foo"), ("1.0-foo", "1.0-bar"), ("1.0-1", "1.0"), ("1.0-1", "1.0.1"), ("1.0.1", "1.0-sp"),
        ("2.12.7.1", "2.12.7"), ("2.13.4.2", "2.13.5"), ("1.0RC1", "1.0-rc-1"), ("1.0.0.Final", "1.0.0"),
        ("5.3.18", "5.3.20"), ("1.2.3-SNAPSHOT", "1.2.3-rc1"), ("1a1", "1-alpha-1"), ("1.0-xyz", "1.0.xyz"),
        ("1.0.0-1", "1.0.0-2"), ("1.0-0.1", "1.0"), ("1.0.RC1", "1.0-rc-1"), ("1-xyz.2", "1-xyz-2"), ("1.2x", "1.2-x"),
        ("2.0.final", "2"), ("2.0.rc1.a", "2.0-rc1"), ("1.0-alpha1", "1a1"),
    ])

    @Test func mavenMatchesComparableVersion() throws {
        Self.check(.maven, Self.mavenPairs, reference: try ReferenceOrderings.maven(Self.mavenPairs))
    }

    /// apk-tools is not packaged for Debian, so its answers are taken from its own test
    /// vectors: these lines are from apk-tools' test/unit/version.data (git
    /// gitlab.alpinelinux.org/alpine/apk-tools, mirrored on GitHub), each "A op B" as
    /// `apk version -t` answers it; the expectation is apk's, not this module's.
    static let apkVectors = """
    2.34 > 0.1.0_alpha
    0.1.0_alpha < 0.1.3_alpha
    0.1.0_alpha2 > 0.1.0_alpha
    0.1.0_alpha < 2.2.39-r1
    1.0.4-r3 < 1.0.4-r4
    1.1 > 1.1_alpha1
    1.2.1 > 1.2
    1.2 < 1.3_alpha
    3.10.18-r1 > 2.3.0b-r1
    2.3.0b-r1 < 2.3.0b-r2
    0.2.0-r1 < 3.1_p16
    3.1_p16 < 3.1_p17
    3.1_p17 > 1.06-r6
    1.06-r6 < 006
    1.2.2-r1 > 1.2.2
    9.3.4-r2 > 9.3.4
    1.2.1-r1 < 1.2.2.1
    20050718-r1 < 20050718-r2
    3.9.8-r5 > 2.01.01_alpha10
    1.39 > 1.00_beta2
    2.8.9-r1 > 2.8.9
    7.15.1-r1 > 1.02
    1.02 < 1.03-r1
    2.8.0.6-r1 > 0.5.2.7
    1.0 < 1.0bc
    """

    @Test func apkMatchesApkToolsVectors() throws {
        for line in Self.apkVectors.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count == 3, let expected = ["<": -1, "=": 0, ">": 1][words[1]] else { continue }
            // apk compares token by token and stops at the first difference, even before
            // a part it would refuse ("1.0bc"): so do the raw comparisons here.
            let forward = APKVersion.compare(APKVersion(unchecked: words[0]), APKVersion(unchecked: words[2]))
            let backward = APKVersion.compare(APKVersion(unchecked: words[2]), APKVersion(unchecked: words[0]))
            #expect(forward.signum() == expected, "apk \(line)")
            #expect(backward.signum() == -expected, "apk \(line) reversed")
        }
        #expect(throws: VersionError.self) { try APKVersion(parsing: "0.1_foobar") }
        #expect(throws: VersionError.self) { try APKVersion(parsing: "0.1-r2-r3") }
        #expect(throws: VersionError.self) { try APKVersion(parsing: "a") }
        _ = try APKVersion(parsing: "0.1_pre2~1234abcd")
        _ = try APKVersion(parsing: "0.1_git20240101_pre1")
    }

    @Test func goModuleVersions() throws {
        #expect(try VersionScheme.goModule.compare("v1.2.3", "v1.2.4") < 0)
        #expect(try VersionScheme.goModule.compare("v2.0.0+incompatible", "v2.0.0") == 0)
        #expect(try VersionScheme.goModule.compare("v0.0.0-20220722155217-630584e8d5aa", "v0.1.0") < 0)
        #expect(try VersionScheme.goModule.compare("v0.3.7", "v0.3.8") < 0)
        #expect(try VersionScheme.goModule.compare("v1.19.13", "1.19.13") == 0)
    }

    @Test func ecosystemsMapToSchemes() {
        #expect(VersionScheme(osvEcosystem: "Debian:12") == .dpkg)
        #expect(VersionScheme(osvEcosystem: "Ubuntu:22.04:LTS") == .dpkg)
        #expect(VersionScheme(osvEcosystem: "Alpine:v3.18") == .apk)
        #expect(VersionScheme(osvEcosystem: "Rocky Linux:9") == .rpm)
        #expect(VersionScheme(osvEcosystem: "PyPI") == .pep440)
        #expect(VersionScheme(osvEcosystem: "crates.io") == .semver)
        #expect(VersionScheme(osvEcosystem: "Go") == .goModule)
        #expect(VersionScheme(osvEcosystem: "Maven") == .maven)
        #expect(VersionScheme(osvEcosystem: "Bitnami") == nil)
    }
}
