/// Go's `time.Duration` as text, both ways. Docker's users type durations in Go's syntax
/// (`HEALTHCHECK --interval=30s`, `--health-timeout 1m30s`) and docker prints them with
/// `Duration.String` ("Health check exceeded timeout (1.5s)"), so the Dockerfile parser,
/// the command line and the container monitor share this one reading and writing of them.
public enum GoDuration {
    /// Go's `time.ParseDuration`, in nanoseconds: `300ms`, `1m30s`, `1.5h`, `-2s`, `0`;
    /// nil for anything Go refuses (a number without a unit, an unknown unit, overflow).
    public static func parse(_ text: String) -> Int64? {
        var s = Array(text.unicodeScalars)[...]
        var negative = false
        if let c = s.first, c == "-" || c == "+" {
            negative = c == "-"
            s = s.dropFirst()
        }
        if s.elementsEqual(["0"]) { return 0 }
        if s.isEmpty { return nil }
        var total: Double = 0
        let units: [String: Double] = ["ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9]
        while !s.isEmpty {
            var number = ""
            var sawDigit = false
            while let c = s.first, ("0"..."9").contains(c) || c == "." {
                if c != "." { sawDigit = true }
                number.unicodeScalars.append(c)
                s = s.dropFirst()
            }
            guard sawDigit, number.filter({ $0 == "." }).count <= 1, let value = Double(number.hasPrefix(".") ? "0" + number : number) else {
                return nil
            }
            var unit = ""
            while let c = s.first, !("0"..."9").contains(c), c != "." {
                unit.unicodeScalars.append(c)
                s = s.dropFirst()
            }
            guard let multiplier = units[unit] else { return nil }
            total += value * multiplier
            if total > 9.2e18 { return nil }
        }
        return Int64(negative ? -total : total)
    }

    /// Go's `Duration.String`: "0s", "750ms", "1.5s", "1m30s", "1h0m0s", "-2s".
    public static func format(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let u = nanoseconds.magnitude
        if u < 1_000_000_000 {
            if u < 1_000 { return sign + "\(u)ns" }
            if u < 1_000_000 { return sign + decimal(u, places: 3) + "µs" }
            return sign + decimal(u, places: 6) + "ms"
        }
        let seconds = u / 1_000_000_000
        var text = decimal(u % 60_000_000_000, places: 9) + "s"
        if seconds >= 60 {
            let minutes = seconds / 60
            text = "\(minutes % 60)m" + text
            if minutes >= 60 { text = "\(minutes / 60)h" + text }
        }
        return sign + text
    }

    /// `value / 10^places` with the fraction's trailing zeros (and a bare point) left out.
    private static func decimal(_ value: UInt64, places: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<places { scale *= 10 }
        var fraction = String(value % scale)
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(value / scale)" + (fraction.isEmpty ? "" : "." + fraction)
    }
}
