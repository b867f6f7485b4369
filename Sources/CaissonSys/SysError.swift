#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call, with what was being done, on which path, and the errno.
///
/// Every error that reaches a user names the operation and the object it touched, so
/// "mount proc on /proc: Operation not permitted (EPERM)" rather than "error 1".
public struct SysError: Error, CustomStringConvertible, Equatable, Sendable {
    public let operation: String
    public let path: String?
    public let errno: Int32

    public init(_ operation: String, path: String? = nil, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// errno 0 marks a failure that has no errno (a message from another program).
    public var description: String {
        let target = path.map { " \($0)" } ?? ""
        return errno == 0 ? "\(operation)\(target)" : "\(operation)\(target): \(Errno.describe(errno))"
    }
}

/// Errno names and messages, for error text that is both readable and greppable.
public enum Errno {
    static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
        E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
        EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL",
        ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG",
        ENOSPC: "ENOSPC", EROFS: "EROFS", EMLINK: "EMLINK", EPIPE: "EPIPE", ERANGE: "ERANGE",
        ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS", ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP",
        EOPNOTSUPP: "EOPNOTSUPP", ECONNREFUSED: "ECONNREFUSED", ETIMEDOUT: "ETIMEDOUT",
        EADDRINUSE: "EADDRINUSE", ENOTSOCK: "ENOTSOCK", ENOTCONN: "ENOTCONN", ENXIO: "ENXIO",
    ]

    public static func name(_ code: Int32) -> String { names[code] ?? "errno \(code)" }

    public static func describe(_ code: Int32) -> String {
        let message = String(cString: strerror(code))
        return "\(message) (\(name(code)))"
    }
}

/// Throws a `SysError` when a call returned -1.
@inline(__always)
@discardableResult
public func check(_ result: Int32, _ operation: @autoclosure () -> String, path: String? = nil) throws(SysError) -> Int32 {
    if result == -1 { throw SysError(operation(), path: path) }
    return result
}

/// Retries a call while it fails with EINTR.
@inline(__always)
public func retryingOnInterrupt(_ call: () -> Int32) -> Int32 {
    while true {
        let result = call()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}
