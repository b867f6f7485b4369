import CaissonSys

/// Why a layer or archive could not be read or applied. Cases name the entry and the reason.
public enum ArchiveError: Error, CustomStringConvertible, Sendable {
    case corrupt(String)
    case decompression(String)
    case unsafeEntry(path: String, reason: String)
    case unsupportedEntry(path: String, type: UInt8)
    case system(SysError)

    public var description: String {
        switch self {
        case .corrupt(let why): return "malformed tar archive: \(why)"
        case .decompression(let why): return "cannot decompress layer: \(why)"
        case .unsafeEntry(let path, let why): return "refusing tar entry \"\(path)\": \(why)"
        case .unsupportedEntry(let path, let type):
            return "tar entry \"\(path)\" has unsupported type '\(Character(Unicode.Scalar(type)))'"
        case .system(let error): return error.description
        }
    }
}
