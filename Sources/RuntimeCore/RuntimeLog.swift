#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// The runtime's log: `--log FILE` in runc's text or JSON line format. Engines such as
/// containerd and conmon read the JSON lines to report why a runtime command failed.
///
/// The container's stderr belongs to the container, so nothing is written there but
/// the final error of a failed command. With `--debug` and no `--log`, the lines go to
/// the runtime's own stderr as runc writes them, through a duplicate taken at start, so
/// the container process still writes them there after its stdio became the container's
/// (a terminal, say); it closes that duplicate before it waits for `start`.
///
/// Debug lines cost nothing when `--debug` is off: `debug` takes an autoclosure and
/// builds no string unless enabled.
public final class RuntimeLog {
    public enum Format: String { case text, json }
    public enum Level: String { case debug, info, warning, error }

    nonisolated(unsafe) public static var shared = RuntimeLog()

    public internal(set) var fd: Int32 = -1
    var format: Format = .text
    public private(set) var debugEnabled = false
    /// Whether `fd` is a `--log` file (rather than the duplicate of stderr).
    var toFile = false

    public init() {}

    /// Opens the log file (append). Failing to open it is reported, not fatal.
    public func configure(path: String?, format: Format, debug: Bool) throws(SysError) {
        self.format = format
        self.debugEnabled = debug
        if let path, !path.isEmpty {
            let opened = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if opened < 0 { throw SysError("open log file", path: path) }
            fd = opened
            toFile = true
        } else if debug {
            let duplicate = caisson_fcntl_int(2, F_DUPFD_CLOEXEC, 3)
            if duplicate >= 0 { fd = duplicate }
        }
    }

    /// Closes the stderr duplicate in a process that must not keep its caller's stderr
    /// open (a container process about to wait for `start`); a --log file stays open.
    public func releaseStderr() {
        guard !toFile, fd >= 0 else { return }
        close(fd)
        fd = -1
        debugEnabled = false
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
    public func error(_ message: String) { if toFile { log(.error, message) } }
}

/// JSON string quoting for hand-built lines. `goHTMLSafe`: also escape `<`, `>`, `&`,
/// U+2028 and U+2029 as Go's encoding/json does (runc's `list`, `state` and `ps` output).
public enum JSONText {
    public static func quote(_ text: String, goHTMLSafe: Bool = false) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                if goHTMLSafe { result += unicodeEscape(scalar.value) } else { result.unicodeScalars.append(scalar) }
            default:
                if scalar.value < 0x20 { result += unicodeEscape(scalar.value) } else { result.unicodeScalars.append(scalar) }
            }
        }
        return result + "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
