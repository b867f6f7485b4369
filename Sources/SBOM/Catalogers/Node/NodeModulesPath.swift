/// Paths npm installs packages at: `…/node_modules/NAME` or
/// `…/node_modules/@SCOPE/NAME`.
enum NodeModulesPath {
    static let marker = "node_modules/"

    /// What follows the last `node_modules/` in `path`, if anything.
    static func nameAfterLastNodeModules(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        let marker = Array(Self.marker.utf8)
        guard bytes.count > marker.count else { return nil }
        var start = bytes.count - marker.count
        while start >= 0 {
            if bytes[start..<(start + marker.count)].elementsEqual(marker), start == 0 || bytes[start - 1] == UInt8(ascii: "/") {
                let rest = bytes[(start + marker.count)...]
                return rest.isEmpty ? nil : String(decoding: rest, as: UTF8.self)
            }
            start -= 1
        }
        return nil
    }

    /// Whether `path` is the `package.json` of an installed package (not one of the
    /// `package.json` files some packages keep in their subdirectories).
    static func isInstalledManifest(_ path: String) -> Bool {
        guard path.hasSuffix("/package.json"), let rest = nameAfterLastNodeModules(path) else { return false }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 2: return !parts[0].isEmpty && !parts[0].hasPrefix("@") && !parts[0].hasPrefix(".")
        case 3: return parts[0].count > 1 && parts[0].hasPrefix("@") && !parts[1].isEmpty
        default: return false
        }
    }
}
