import Images

/// Why an image could not be inventoried or scanned, or a scan setting is wrong; each
/// case names what is wrong.
public enum ScanError: Error, Sendable, CustomStringConvertible {
    case image(ImageError)
    /// A setting given on the command line or in the config file: what, and why.
    case invalidSetting(String)
    /// The vulnerability database: missing, unreadable or from a future version.
    case database(String)
    /// A file the scan was told to read (an ignore file, the config file).
    case file(path: String, reason: String)

    public var description: String {
        switch self {
        case .image(let error): return error.description
        case .invalidSetting(let text): return text
        case .database(let text): return text
        case .file(let path, let reason): return "\(path): \(reason)"
        }
    }
}
