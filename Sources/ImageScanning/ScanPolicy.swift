import VulnerabilityDB

/// The gate `caisson run`, `create` and `pull` apply before using an image
/// (`--scan-policy`, default from the config file): `never` scans nothing, `warn`
/// reports findings and goes on, `block:SEVERITY` refuses an image with a finding of that
/// severity or worse (and refuses when it cannot tell: no database).
public enum ScanPolicy: Sendable, Equatable, CustomStringConvertible {
    case never
    case warn
    case block(Severity)

    public init(parsing text: String) throws(ScanError) {
        let lowered = text.lowercased()
        switch lowered {
        case "never": self = .never
        case "warn": self = .warn
        default:
            if lowered.hasPrefix("block:"),
               let severity = Severity.allCases.first(where: { $0.description.lowercased() == lowered.dropFirst(6) }),
               severity != .unknown {
                self = .block(severity)
            } else {
                throw .invalidSetting("invalid scan policy \"\(text)\": never, warn or block:SEVERITY (negligible, low, medium, high, critical)")
            }
        }
    }

    public var description: String {
        switch self {
        case .never: return "never"
        case .warn: return "warn"
        case .block(let severity): return "block:\(severity.description.lowercased())"
        }
    }

    /// The findings that break the policy (empty: the image may be used).
    public func violations(_ findings: [Finding]) -> [Finding] {
        guard case .block(let threshold) = self else { return [] }
        return findings.filter { $0.severity >= threshold }
    }
}
