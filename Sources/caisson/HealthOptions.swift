import ArgumentParser
import CLIFormatting
import Engine

/// `run`/`create`'s health-check flags, as docker's CLI has them and reads them: the
/// durations in Go's syntax (`1s`, `500ms`, `1m30s`), `--health-cmd` run by the shell
/// (`CMD-SHELL`), `--no-healthcheck` for `NONE`; what is not given comes from the image's
/// HEALTHCHECK (the engine merges them at `create`).
struct HealthOptions: ParsableArguments {
    @Option(name: .customLong("health-cmd"), help: "Command to run to check health.") var healthCmd: String?
    @Option(name: .customLong("health-interval"), help: "Time between running the check (ms|s|m|h) (default 0s).")
    var healthInterval: String?
    @Option(name: .customLong("health-retries"), help: "Consecutive failures needed to report unhealthy.") var healthRetries: String?
    @Option(name: .customLong("health-timeout"), help: "Maximum time to allow one check to run (ms|s|m|h) (default 0s).")
    var healthTimeout: String?
    @Option(name: .customLong("health-start-period"),
            help: "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s).")
    var healthStartPeriod: String?
    @Option(name: .customLong("health-start-interval"), help: "Time between running the check during the start period (ms|s|m|h) (default 0s).")
    var healthStartInterval: String?
    @Flag(name: .customLong("no-healthcheck"), help: "Disable any container-specified HEALTHCHECK.") var noHealthcheck = false

    /// The container's own health settings (nil: the image's, if any), or docker's error
    /// for a bad value ("--health-interval cannot be negative").
    func config() throws -> HealthConfig? {
        let interval = try duration(healthInterval, flag: "--health-interval")
        let timeout = try duration(healthTimeout, flag: "--health-timeout")
        let startPeriod = try duration(healthStartPeriod, flag: "--health-start-period")
        let startInterval = try duration(healthStartInterval, flag: "--health-start-interval")
        var retries = 0
        if let healthRetries {
            guard let value = Int(healthRetries) else {
                throw CLIError.usage("invalid argument \"\(healthRetries)\" for \"--health-retries\" flag: strconv.ParseInt: parsing \"\(healthRetries)\": invalid syntax")
            }
            retries = value
        }
        let command = healthCmd ?? ""
        let anySetting = !command.isEmpty || interval != 0 || timeout != 0 || startPeriod != 0 || retries != 0 || startInterval != 0
        if noHealthcheck {
            guard !anySetting else { throw CLIError.usage("--no-healthcheck conflicts with --health-* options") }
            return HealthConfig(test: ["NONE"])
        }
        guard anySetting else { return nil }
        for (value, flag) in [(interval, "--health-interval"), (timeout, "--health-timeout"), (Int64(retries), "--health-retries"),
                              (startPeriod, "--health-start-period"), (startInterval, "--health-start-interval")] where value < 0 {
            throw CLIError.usage("\(flag) cannot be negative")
        }
        var check = HealthConfig(test: command.isEmpty ? nil : ["CMD-SHELL", command])
        check.Interval = interval == 0 ? nil : interval
        check.Timeout = timeout == 0 ? nil : timeout
        check.StartPeriod = startPeriod == 0 ? nil : startPeriod
        check.StartInterval = startInterval == 0 ? nil : startInterval
        check.Retries = retries == 0 ? nil : retries
        return check
    }

    /// A Go duration, or pflag's error naming the flag.
    private func duration(_ text: String?, flag: String) throws -> Int64 {
        guard let text else { return 0 }
        guard let value = GoDuration.parse(text) else {
            let reason = Int64(text) != nil ? "time: missing unit in duration \"\(text)\"" : "time: invalid duration \"\(text)\""
            throw CLIError.usage("invalid argument \"\(text)\" for \"\(flag)\" flag: \(reason)")
        }
        return value
    }
}
