import FuzzSupport
import PackageVersions

/// The version orderings a scan compares installed packages with. The input is two or
/// three versions, one per line; for every scheme that parses them, the ordering must be
/// one a sort can rely on: a version equals itself, `a` against `b` is the opposite of
/// `b` against `a`, and `a <= b <= c` gives `a <= c` (for RPM, among versions that all
/// have a release or all lack one; not for Maven, whose reference is not transitive). OSV ranges built from them evaluate
/// without trapping.
@_cdecl("fuzz_versions_main")
public func fuzzVersionsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzVersions)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVersions(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: Fuzz.bytes(data, size), as: UTF8.self)
    let parts = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
    let a = parts[0]
    let b = parts.count > 1 ? parts[1] : ""
    let c = parts.count > 2 ? parts[2] : nil
    for scheme in VersionScheme.allCases {
        if let itself = try? scheme.compare(a, a) {
            Fuzz.check(itself == 0, "\(scheme): \(a.debugDescription) is not equal to itself (\(itself))")
        }
        guard let forward = try? scheme.compare(a, b), let backward = try? scheme.compare(b, a) else { continue }
        Fuzz.check(forward.signum() == -backward.signum(),
                   "\(scheme): \(a.debugDescription) vs \(b.debugDescription) is \(forward), the other way \(backward)")
        Fuzz.check(scheme.same(a, b) == (forward == 0), "\(scheme): same() disagrees with compare()")
        let ranges = AffectedRanges(
            ranges: [OSVVersionRange(type: scheme == .semver ? .semver : .ecosystem, events: [.introduced(a), .fixed(b)])],
            versions: [b])
        _ = try? ranges.evaluate(a, scheme: scheme)
        _ = try? ranges.evaluate(b, scheme: scheme)
        // RPM's release missing on one side matches any release (as rpm's range checks
        // have it), so its ordering is transitive only among versions that all have one
        // or all lack one.
        // Maven's own ComparableVersion is not transitive on such input ("" sorts between
        // "*1" and "...alpha.4" the wrong way round), and ours must answer as it does.
        if scheme == .maven { continue }
        if scheme == .rpm, let c, Set([a, b, c].map { (try? RPMVersion(parsing: $0))?.release == nil }).count > 1 { continue }
        if let c, forward <= 0, let middle = try? scheme.compare(b, c), middle <= 0, let outer = try? scheme.compare(a, c) {
            Fuzz.check(outer <= 0, "\(scheme): \(a.debugDescription) <= \(b.debugDescription) <= \(c.debugDescription) but not the first <= the last")
        }
    }
    return 0
}
