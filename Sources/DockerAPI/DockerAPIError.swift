import Engine
import Images
import NIOHTTP1

/// A failed request, as docker answers it: an HTTP status and `{"message": "..."}`.
/// Engine and image errors map onto docker's statuses (404 no such thing, 409 conflict,
/// 400 bad parameter, 500 otherwise).
public struct DockerAPIError: Error, CustomStringConvertible, Sendable {
    public var status: HTTPResponseStatus
    public var message: String

    public init(_ status: HTTPResponseStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    public static func badParameter(_ message: String) -> DockerAPIError { DockerAPIError(.badRequest, message) }
    public static func notFound(_ message: String) -> DockerAPIError { DockerAPIError(.notFound, message) }
    public static func conflict(_ message: String) -> DockerAPIError { DockerAPIError(.conflict, message) }

    /// Any error a handler let through, with docker's status for it.
    public static func from(_ error: any Error) -> DockerAPIError {
        switch error {
        case let error as DockerAPIError: return error
        case let error as EngineError: return from(engine: error)
        case let error as ImageError: return from(image: error)
        case let error as ContainerPathError: return from(path: error)
        default: return DockerAPIError(.internalServerError, "\(error)")
        }
    }

    static func from(engine error: EngineError) -> DockerAPIError {
        switch error {
        case .noSuchContainer, .noSuchNetwork, .noSuchVolume: return DockerAPIError(.notFound, error.description)
        case .nameInUse, .isRunning, .notRunning, .networkExists, .networkInUse, .volumeInUse:
            return DockerAPIError(.conflict, error.description)
        case .invalid: return DockerAPIError(.badRequest, error.description)
        case .invalidSetting(let setting, let message): return DockerAPIError(.badRequest, "invalid field \(setting.apiField): \(message)")
        case .portAllocated: return DockerAPIError(.internalServerError, error.description)
        case .image(let image): return from(image: image)
        default: return DockerAPIError(.internalServerError, error.description)
        }
    }

    static func from(path error: ContainerPathError) -> DockerAPIError {
        switch error {
        case .noSuchPath: return DockerAPIError(.notFound, error.description)
        case .notADirectory, .wouldReplace, .archive(.unsafeEntry), .archive(.corrupt), .archive(.unsupportedEntry):
            return DockerAPIError(.badRequest, error.description)
        default: return DockerAPIError(.internalServerError, error.description)
        }
    }

    static func from(image error: ImageError) -> DockerAPIError {
        switch error {
        case .notFound: return DockerAPIError(.notFound, error.description)
        case .inUse: return DockerAPIError(.conflict, error.description)
        case .invalid, .ambiguous: return DockerAPIError(.badRequest, error.description)
        default: return DockerAPIError(.internalServerError, error.description)
        }
    }
}
