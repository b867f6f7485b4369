import CaissonSys
import RegistryConfig

/// Caisson's own settings file for scanning (`/etc/caisson/caisson.conf`, or the file
/// `CAISSON_CONFIG` names), TOML:
///
///     [scan]
///     policy = "block:critical"   # never | warn | block:SEVERITY (default: never)
///     database = "/var/lib/caisson/vulndb/osv.sqlite"   # default: ROOT/vulndb/osv.sqlite
public struct ScanSettings: Sendable {
    public static let defaultPath = "/etc/caisson/caisson.conf"
    public var policy: ScanPolicy = .never
    public var database: String?

    public init() {}

    /// The settings of `path` (nil: `CAISSON_CONFIG`, then the default path); a missing
    /// file is the defaults, a broken one an error naming the line.
    public static func load(_ path: String? = nil, environment: [String: String]) throws(ScanError) -> ScanSettings {
        let file = path ?? environment["CAISSON_CONFIG"] ?? defaultPath
        var settings = ScanSettings()
        guard Files.exists(file) else {
            if path != nil || environment["CAISSON_CONFIG"] != nil { throw .file(path: file, reason: "no such file") }
            return settings
        }
        let document: TOMLValue
        do {
            document = try TOMLParser.parse(try Files.readString(file))
        } catch let error as TOMLError {
            throw .file(path: file, reason: error.description)
        } catch {
            throw .file(path: file, reason: "\(error)")
        }
        guard let scan = document["scan"] else { return settings }
        if let policy = scan["policy"] {
            guard let text = policy.string else { throw .file(path: file, reason: "scan.policy must be a string") }
            do { settings.policy = try ScanPolicy(parsing: text) } catch { throw .file(path: file, reason: "scan.policy: \(error)") }
        }
        if let database = scan["database"] {
            guard let text = database.string, text.hasPrefix("/") else { throw .file(path: file, reason: "scan.database must be an absolute path") }
            settings.database = text
        }
        return settings
    }
}
