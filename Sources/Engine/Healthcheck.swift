import CaissonJSON
import ImageSpec

/// A container's health check as docker settles it. The container's own settings
/// (`--health-*`, `--no-healthcheck`, the API's `Config.Healthcheck`) are checked as
/// docker's daemon checks them, then laid field by field over the image's HEALTHCHECK
/// (docker's `merge`); what results is kept in the container's record, shown by inspect,
/// and turned at each start into the probe the container's monitor runs.
public typealias HealthConfig = ImageConfig.HealthConfig

extension ImageConfig.HealthConfig {
    /// docker's defaults for what is unset (zero): 30 s between probes (and before the
    /// first), 30 s for one probe, no start period, 5 s between probes during it, 3 retries.
    public static let defaultInterval: Int64 = 30_000_000_000
    public static let defaultTimeout: Int64 = 30_000_000_000
    public static let defaultStartInterval: Int64 = 5_000_000_000
    public static let defaultRetries = 3
    /// docker's `MinimumDuration`: a set duration shorter than 1 ms is refused.
    public static let minimumDuration: Int64 = 1_000_000

    /// The settings docker's daemon refuses, with its words ("Interval in Healthcheck
    /// cannot be less than 1ms"), and test forms that could never run a probe.
    public func validate() throws(EngineError) {
        for (name, value) in [("Interval", Interval), ("Timeout", Timeout), ("StartPeriod", StartPeriod),
                              ("StartInterval", StartInterval)] {
            if let value, value != 0, value < Self.minimumDuration {
                throw .invalid("\(name) in Healthcheck cannot be less than 1ms")
            }
        }
        if let retries = Retries, retries < 0 { throw .invalid("Retries in Healthcheck cannot be negative") }
        guard let test = Test, let kind = test.first else { return }
        switch kind {
        case "NONE":
            guard test.count == 1 else { throw .invalid("invalid Healthcheck.Test: NONE takes no arguments") }
        case "CMD", "CMD-SHELL":
            guard test.count > 1, !test[1].isEmpty else { throw .invalid("invalid Healthcheck.Test: \(kind) needs a command") }
        default:
            throw .invalid("invalid Healthcheck.Test: unknown type \"\(kind)\" (CMD, CMD-SHELL or NONE)")
        }
    }

    /// docker's merge: these settings over the image's, each unset one (empty test, zero
    /// duration or retries) taken from the image.
    public func over(_ image: ImageConfig.HealthConfig?) -> ImageConfig.HealthConfig {
        guard let image else { return self }
        var merged = self
        if (merged.Test ?? []).isEmpty { merged.Test = image.Test }
        if (merged.Interval ?? 0) == 0 { merged.Interval = image.Interval }
        if (merged.Timeout ?? 0) == 0 { merged.Timeout = image.Timeout }
        if (merged.StartPeriod ?? 0) == 0 { merged.StartPeriod = image.StartPeriod }
        if (merged.StartInterval ?? 0) == 0 { merged.StartInterval = image.StartInterval }
        if (merged.Retries ?? 0) == 0 { merged.Retries = image.Retries }
        return merged
    }

    /// Whether a probe runs: a CMD or CMD-SHELL test (NONE, none at all, or an unknown
    /// type from an image mean no health check, as docker's `getProbe` decides).
    public var isActive: Bool {
        guard let test = Test, test.count > 1 else { return false }
        return test[0] == "CMD" || test[0] == "CMD-SHELL"
    }

    /// The probe's command inside the container: CMD's words, or CMD-SHELL's through the
    /// image's SHELL (default `/bin/sh -c`), as docker runs them.
    public func probeCommand(shell: [String]?) -> [String]? {
        guard isActive, let test = Test else { return nil }
        let words = Array(test.dropFirst())
        if test[0] == "CMD" { return words }
        return ((shell?.isEmpty == false ? shell : nil) ?? ["/bin/sh", "-c"]) + words
    }

    /// The monitor's options for the probe, docker's defaults filled in.
    public func monitorArguments(shell: [String]?) -> [String] {
        guard let command = probeCommand(shell: shell) else { return [] }
        func positive(_ value: Int64?, _ fallback: Int64) -> Int64 { (value ?? 0) > 0 ? value! : fallback }
        var arguments: [String] = []
        for word in command { arguments += ["--health-cmd", word] }
        arguments += ["--health-interval", String(positive(Interval, Self.defaultInterval)),
                      "--health-timeout", String(positive(Timeout, Self.defaultTimeout)),
                      "--health-start-period", String(positive(StartPeriod, 0)),
                      "--health-start-interval", String(positive(StartInterval, Self.defaultStartInterval)),
                      "--health-retries", String((Retries ?? 0) > 0 ? Retries! : Self.defaultRetries)]
        return arguments
    }

    /// `Config.Healthcheck` as docker's inspect shows it: unset fields left out.
    public var document: JSONValue {
        var object = JSONObject()
        if let test = Test, !test.isEmpty { object.set("Test", .array(test.map { .string($0) })) }
        for (name, value) in [("Interval", Interval), ("Timeout", Timeout), ("StartPeriod", StartPeriod),
                              ("StartInterval", StartInterval)] {
            if let value, value != 0 { object.set(name, .number(String(value))) }
        }
        if let retries = Retries, retries != 0 { object.set("Retries", .number(String(retries))) }
        return .object(object)
    }
}
