#if canImport(Glibc)
import Glibc
#endif

/// Signal names as runc and kill(1) accept them: "KILL", "SIGKILL", "sigkill" or "9".
public enum Signals {
    public static let byName: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP,
        "ABRT": SIGABRT, "IOT": SIGABRT, "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL,
        "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2, "PIPE": SIGPIPE, "ALRM": SIGALRM,
        "TERM": SIGTERM, "STKFLT": SIGSTKFLT, "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP,
        "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG, "XCPU": SIGXCPU,
        "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF, "WINCH": SIGWINCH, "IO": SIGIO,
        "POLL": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
    ]

    /// The highest real-time signal number the kernel accepts.
    public static let maximum: Int32 = 64

    public enum ParseError: Error, CustomStringConvertible {
        case unknown(String)
        public var description: String {
            switch self {
            case .unknown(let name): return "unknown signal \"\(name)\""
            }
        }
    }

    /// A signal by number, name (`TERM`, `SIGTERM`) or real-time offset (`RTMIN+2`). With
    /// `allowingZero`, 0 too: no signal, only the check that the target exists (as
    /// `kill(2)` and runc's `kill ID 0`, a liveness probe).
    public static func parse(_ text: String, allowingZero: Bool = false) throws(ParseError) -> Int32 {
        if let number = Int32(text) {
            guard (number > 0 || (number == 0 && allowingZero)) && number <= maximum else { throw .unknown(text) }
            return number
        }
        var name = Text.asciiUppercased(text)
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let signal = byName[name] { return signal }
        // RTMIN+N and RTMAX-N
        if name.hasPrefix("RTMIN") {
            let rest = name.dropFirst(5)
            let offset = rest.isEmpty ? 0 : Int32(rest.hasPrefix("+") ? String(rest.dropFirst()) : "x") ?? -1
            let signal = 34 + offset
            if offset >= 0 && signal <= maximum { return signal }
        }
        if name.hasPrefix("RTMAX") {
            let rest = name.dropFirst(5)
            let offset = rest.isEmpty ? 0 : Int32(rest.hasPrefix("-") ? String(rest.dropFirst()) : "x") ?? -1
            let signal = maximum - offset
            if offset >= 0 && signal >= 34 { return signal }
        }
        throw .unknown(text)
    }
}
