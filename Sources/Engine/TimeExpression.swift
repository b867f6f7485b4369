import CLIFormatting

/// A point in time as docker's filters and `--since`/`--until` give it: RFC 3339, Unix
/// seconds (with an optional fraction), or a duration before now ("10m", "1h30m", "2h45m10s").
public enum TimeExpression {
    public static func epoch(_ text: String, now: Int64) -> Int64? {
        if let epoch = Time.parseRFC3339(text) { return epoch }
        if text.allSatisfy({ $0.isNumber || $0 == "." }), text.split(separator: ".", omittingEmptySubsequences: false).count <= 2,
           let seconds = Int64(text.split(separator: ".", omittingEmptySubsequences: false)[0]) { return seconds }
        var total: Int64 = 0
        var number = ""
        for character in text {
            if character.isNumber { number.append(character); continue }
            guard let value = Int64(number) else { return nil }
            switch character {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
            number = ""
        }
        guard number.isEmpty, !text.isEmpty else { return nil }
        return now - total
    }
}
