/// One package of the dpkg database, as a `Package` paragraph of the status file (or of
/// a distroless image's `status.d` file) describes it.
struct DpkgStatusEntry: Sendable, Hashable {
    var name: String
    var version: String
    var architecture: String?
    var sourceName: String?
    var sourceVersion: String?
    /// The status file or status.d file the paragraph is in.
    var path: String
    /// The third word of `Status:` ("installed", "half-configured", "config-files", ...).
    var state: String

    /// name, architecture and version: what must stay the same for the package to be
    /// the same one in an earlier layer.
    var identity: String { "\(name):\(architecture ?? "")@\(version)" }

    /// dpkg's current states (dpkg-query(1)); `dpkg-query -W` lists every package whose
    /// state is not "not-installed".
    static let states: Set<String> = [
        "not-installed", "config-files", "half-installed", "unpacked", "half-configured",
        "triggers-awaited", "triggers-pending", "installed",
    ]

    /// Reads a paragraph; nil for a package `dpkg-query -W` would not list. A paragraph
    /// without `Status` counts as installed in status.d (distroless images write none)
    /// and as not installed in the status file, as dpkg reads it.
    static func read(_ paragraph: ControlParagraph, path: String, statusRequired: Bool) throws(DpkgParagraphError) -> DpkgStatusEntry? {
        guard let name = paragraph.firstLine("Package"), !name.isEmpty else { throw .missing("Package") }
        let state: String
        if let status = paragraph.firstLine("Status") {
            let words = status.split(separator: " ")
            guard words.count == 3, states.contains(String(words[2])) else { throw .invalid(name, "Status", status) }
            state = String(words[2])
        } else if statusRequired {
            return nil
        } else {
            state = "installed"
        }
        if state == "not-installed" { return nil }
        guard let version = paragraph.firstLine("Version"), !version.isEmpty else { throw .missingIn(name, "Version") }
        var entry = DpkgStatusEntry(name: name, version: version, architecture: paragraph.firstLine("Architecture"),
                                    path: path, state: state)
        if let source = paragraph.firstLine("Source"), !source.isEmpty {
            // "Source: glibc" or "Source: gcc-12 (12.2.0-14)" (a binNMU or a differing version).
            if let open = source.firstIndex(of: "("), source.hasSuffix(")") {
                entry.sourceName = String(source[..<open].filter { $0 != " " })
                entry.sourceVersion = String(source[source.index(after: open)..<source.index(before: source.endIndex)])
            } else {
                entry.sourceName = source
                entry.sourceVersion = version
            }
        }
        return entry
    }
}

/// Why a status paragraph cannot be read.
enum DpkgParagraphError: Error, CustomStringConvertible {
    case missing(String)
    case missingIn(String, String)
    case invalid(String, String, String)

    var description: String {
        switch self {
        case .missing(let field): return "no \(field) field"
        case .missingIn(let package, let field): return "Package \(package): no \(field) field"
        case .invalid(let package, let field, let value): return "Package \(package): invalid \(field) \"\(value)\""
        }
    }
}
