#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timestamps in RFC 3339 with nanoseconds, as runc writes them
/// ("2024-01-02T03:04:05.123456789Z"), without Foundation's date formatting.
public enum Clock {
    public static func rfc3339Now() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return rfc3339(seconds: Int(now.tv_sec), nanoseconds: Int(now.tv_nsec))
    }

    /// Seconds since the epoch, with their fraction.
    public static func epochSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    public static func rfc3339(seconds: Int, nanoseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let nanos = String(nanoseconds)
        let fraction = String(repeating: "0", count: 9 - nanos.count) + nanos
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(fraction)Z"
    }

    /// Monotonic milliseconds, for deadlines.
    public static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Sleeps for a number of milliseconds.
    public static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
