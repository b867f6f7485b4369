#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// The runtime's log: `--log FILE` in runc's text or JSON line format. Engines such as
/// containerd and conmon read the JSON lines to report why a runtime command failed.
///
/// The container's stderr belongs to the container, so nothing is written there but
/// the final error of a failed command.
public final class RuntimeLog {
    public enum Format: String { case text, json }
    public enum Level: String { case debug, info, warning, error }

    nonisolated(unsafe) public static var shared = RuntimeLog()

    public internal(set) var fd: Int32 = -1
    var format: Format = .text
    var debugEnabled = false

    public init() {}

    /// Opens the log file (append). Failing to open it is reported, not fatal.
    public func configure(path: String?, format: Format, debug: Bool) throws(SysError) {
        self.format = format
        self.debugEnabled = debug
        if let path, !path.isEmpty {
            let opened = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if opened < 0 { throw SysError("open log file", path: path) }
            fd = opened
        }
    }

    public func log(_ level: Level, _ message: String) {
        if level == .debug && !debugEnabled { return }
        let target = fd >= 0 ? fd : (level == .warning || debugEnabled ? 2 : -1)
        guard target >= 0 else { return }
        let line: String
        switch format {
        case .json:
            line = "{\"level\":\"\(level.rawValue)\",\"msg\":\(JSONText.quote(message)),\"time\":\"\(Clock.rfc3339Now())\"}\n"
        case .text:
            line = "time=\"\(Clock.rfc3339Now())\" level=\(level.rawValue) msg=\(JSONText.quote(message))\n"
        }
        try? Files.writeAll(fd: target, bytes: Array(line.utf8))
    }

    public func debug(_ message: @autoclosure () -> String) {
        if debugEnabled { log(.debug, message()) }
    }

    public func warn(_ message: String) { log(.warning, message) }
    public func error(_ message: String) { if fd >= 0 { log(.error, message) } }
}

/// JSON string quoting for hand-built lines.
public enum JSONText {
    public static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
