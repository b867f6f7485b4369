/// What a catalog takes from one RPM header.
struct RPMPackageRecord: Sendable {
    var name: String
    var version: String
    var release: String
    var epoch: UInt32?
    var architecture: String?
    var license: String?
    var sourceRPM: String?
    var files: [String]

    /// `[EPOCH:]VERSION-RELEASE`, as `rpm -q --qf '%{EVR}'` prints it: the epoch where
    /// the header has one.
    var fullVersion: String {
        (epoch.map { "\($0):" } ?? "") + "\(version)-\(release)"
    }

    var identity: String { "\(name):\(architecture ?? "")@\(fullVersion)" }

    /// nil for the `gpg-pubkey` pseudo-packages `rpm --import` adds (keys, not software).
    init?(header: RPMHeader) throws(RPMHeaderError) {
        guard let name = try header.string(.name), !name.isEmpty else { throw .invalid("no NAME (1000) tag") }
        guard let version = try header.string(.version) else { throw .invalid("package \(name): no VERSION (1001) tag") }
        guard let release = try header.string(.release) else { throw .invalid("package \(name): no RELEASE (1002) tag") }
        if name == "gpg-pubkey" { return nil }
        self.name = name
        self.version = version
        self.release = release
        epoch = try header.int32Array(.epoch)?.first
        architecture = try header.string(.arch)
        license = try header.string(.license)
        sourceRPM = try header.string(.sourceRPM)
        if let baseNames = try header.stringArray(.baseNames) {
            let directories = try header.stringArray(.dirNames) ?? []
            let indexes = try header.int32Array(.dirIndexes) ?? []
            guard indexes.count == baseNames.count else {
                throw .invalid("package \(name): \(baseNames.count) BASENAMES but \(indexes.count) DIRINDEXES")
            }
            files = try zip(indexes, baseNames).map { (index, base) throws(RPMHeaderError) in
                guard Int(index) < directories.count else {
                    throw .invalid("package \(name): DIRINDEXES value \(index) beyond \(directories.count) DIRNAMES")
                }
                return directories[Int(index)] + base
            }
        } else {
            files = try header.stringArray(.oldFileNames) ?? []
        }
    }
}

/// A source RPM's file name split into its package name and `VERSION-RELEASE`:
/// "bash-5.2.15-3.fc39.src.rpm" is bash, 5.2.15-3.fc39.
struct SourceRPMName {
    var name: String
    var version: String

    init?(_ fileName: String) {
        var stem = Substring(fileName)
        for suffix in [".src.rpm", ".nosrc.rpm"] where stem.hasSuffix(suffix) {
            stem = stem.dropLast(suffix.count)
            break
        }
        guard let releaseDash = stem.lastIndex(of: "-"),
              let versionDash = stem[..<releaseDash].lastIndex(of: "-"), versionDash != stem.startIndex else { return nil }
        name = String(stem[..<versionDash])
        version = String(stem[stem.index(after: versionDash)...])
    }
}
