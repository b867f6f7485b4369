/// Why an image document, digest or reference is not acceptable. Each case names the
/// offending value so that a user sees exactly what was wrong.
public enum ImageSpecError: Error, CustomStringConvertible, Sendable, Equatable {
    case invalidDigest(String, String)
    case invalidReference(String, String)
    case invalidDocument(what: String, reason: String)
    case unsupportedMediaType(String)

    public var description: String {
        switch self {
        case .invalidDigest(let text, let why): return "invalid digest \"\(text)\": \(why)"
        case .invalidReference(let text, let why): return "invalid reference format \"\(text)\": \(why)"
        case .invalidDocument(let what, let why): return "invalid \(what): \(why)"
        case .unsupportedMediaType(let type): return "unsupported media type \"\(type)\""
        }
    }
}
