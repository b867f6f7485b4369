import ContentStore
import ImageSpec

/// Why talking to a registry failed, in words a user can act on. It is in `RegistryConfig`
/// (with registries.conf and the auth files, whose errors it reports); `Registry`
/// re-exports it.
public enum RegistryError: Error, CustomStringConvertible, Sendable {
    case configuration(file: String, reason: String)
    case blocked(String)
    case manifestUnknown(String)
    case unauthorized(String)
    case loginFailed(String)
    case http(status: Int, url: String, detail: String)
    case transport(url: String, reason: String)
    case invalidResponse(String)
    case content(ContentStoreError)
    case document(ImageSpecError)
    case credentials(file: String, reason: String)

    public var description: String {
        switch self {
        case .configuration(let file, let reason):
            return file.isEmpty ? "registries configuration: \(reason)" : "registries configuration \(file): \(reason)"
        case .blocked(let host): return "registry \(host) is blocked in the registries configuration"
        case .manifestUnknown(let reference): return "manifest unknown: \(reference) was not found"
        case .unauthorized(let what): return "unauthorized: \(what) (log in with `caisson login`)"
        case .loginFailed(let host): return "login to \(host) failed: the registry refused the user name or password"
        case .http(let status, let url, let detail):
            return "registry answered \(status) for \(url)" + (detail.isEmpty ? "" : ": \(detail)")
        case .transport(let url, let reason): return "cannot reach \(url): \(reason)"
        case .invalidResponse(let why): return "invalid registry response: \(why)"
        case .content(let error): return error.description
        case .document(let error): return error.description
        case .credentials(let file, let reason): return "credentials file \(file): \(reason)"
        }
    }
}
