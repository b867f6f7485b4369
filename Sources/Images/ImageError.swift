import CaissonSys
import ContentStore
import ImageSpec
import LayerArchive
import Registry

/// Why an image operation failed, in the words docker uses where it has them.
public enum ImageError: Error, CustomStringConvertible, Sendable {
    case notFound(String)
    case ambiguous(String)
    case invalid(String)
    case noMatchingPlatform(reference: String, platform: String, available: [String])
    case inUse(String)
    case registry(RegistryError)
    case content(ContentStoreError)
    case archive(ArchiveError)
    case document(ImageSpecError)
    case system(SysError)

    public var description: String {
        switch self {
        case .notFound(let what): return "No such image: \(what)"
        case .ambiguous(let what): return "image id prefix \"\(what)\" is ambiguous"
        case .invalid(let why): return why
        case .noMatchingPlatform(let reference, let platform, let available):
            return "\(reference) has no image for \(platform) (it has: \(available.joined(separator: ", ")))"
        case .inUse(let why): return why
        case .registry(let error): return error.description
        case .content(let error): return error.description
        case .archive(let error): return error.description
        case .document(let error): return error.description
        case .system(let error): return error.description
        }
    }
}
