#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// The health check the engine asks the monitor to run (its `--health-*` options): the
/// probe's command inside the container and docker's timings, in nanoseconds, with the
/// defaults already filled in by the engine. No `--health-cmd`: no health check.
struct HealthSettings {
    var command: [String] = []
    var interval: Int64 = 30_000_000_000
    var timeout: Int64 = 30_000_000_000
    var startPeriod: Int64 = 0
    var startInterval: Int64 = 5_000_000_000
    var retries = 3

    var isEnabled: Bool { !command.isEmpty }

    /// Takes one `--health-*` option and its value; false when `flag` is not one.
    mutating func take(_ flag: String, _ value: () throws(SysError) -> String) throws(SysError) -> Bool {
        func nanoseconds() throws(SysError) -> Int64 {
            let text = try value()
            guard let number = Int64(text), number >= 0 else { throw SysError("invalid \(flag) \(text): nanoseconds expected", errno: EINVAL) }
            return number
        }
        switch flag {
        case "--health-cmd": command.append(try value())
        case "--health-interval": interval = try nanoseconds()
        case "--health-timeout": timeout = try nanoseconds()
        case "--health-start-period": startPeriod = try nanoseconds()
        case "--health-start-interval": startInterval = try nanoseconds()
        case "--health-retries":
            let text = try value()
            guard let number = Int(text), number > 0 else { throw SysError("invalid --health-retries \(text)", errno: EINVAL) }
            retries = number
        default: return false
        }
        return true
    }

    var intervalMilliseconds: Int64 { Self.milliseconds(interval) }
    var startIntervalMilliseconds: Int64 { Self.milliseconds(startInterval) }
    var startPeriodMilliseconds: Int64 { startPeriod > 0 ? Self.milliseconds(startPeriod) : 0 }

    /// Nanoseconds as poll(2)'s milliseconds, rounded up (a 1 ms floor, never 0).
    static func milliseconds(_ nanoseconds: Int64) -> Int64 {
        max(1, (nanoseconds + 999_999) / 1_000_000)
    }
}
