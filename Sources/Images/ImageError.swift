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
    /// No registry a search asked could be searched (each named with why).
    case searchFailed([String])
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
        case .searchFailed(let failures): return "cannot search " + failures.joined(separator: "; ")
        case .content(let error): return error.description
        case .archive(let error): return error.description
        case .document(let error): return error.description
        case .system(let error): return error.description
        }
    }
}

extension ImageError {
    /// The ImageError for a failure of one of the layers below (content store, archive,
    /// document parsing, system call, registry), so that callers can catch once.
    static func wrapping(_ error: any Error) -> ImageError {
        switch error {
        case let error as ImageError: return error
        case let error as ContentStoreError: return .content(error)
        case let error as ArchiveError: return .archive(error)
        case let error as ImageSpecError: return .document(error)
        case let error as RegistryError: return .registry(error)
        case let error as SysError: return .system(error)
        case let error as DecodingError: return .invalid(describe(error))
        default: return .invalid("\(error)")
        }
    }
}
