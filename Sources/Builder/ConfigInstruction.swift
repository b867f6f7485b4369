import Dockerfile
import ImageSpec

/// What the Dockerfile instructions that only change an image's run configuration (CMD,
/// ENTRYPOINT, ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, SHELL, STOPSIGNAL, HEALTHCHECK,
/// ONBUILD) do to it. One place for a build's stages and for `commit --change`, which
/// docker reads as the same instructions.
enum ConfigInstruction {
    /// Applies an instruction, already expanded, to `config`. `environment` is the scope
    /// after it (ENV's result is that scope's image environment); `commandSet` tells
    /// whether CMD was given since the base (an ENTRYPOINT clears only an inherited CMD).
    /// Returns false for an instruction that does more than change the configuration.
    static func apply(_ instruction: Instruction, to config: inout ImageConfig.RunConfig, environment: StageEnvironment,
                      commandSet: inout Bool) throws(BuildError) -> Bool {
        switch instruction.kind {
        case .cmd(let form):
            config.Cmd = command(form, shell: config.Shell)
            commandSet = true
        case .entrypoint(let form):
            config.Entrypoint = command(form, shell: config.Shell)
            if !commandSet { config.Cmd = nil }
        case .env:
            config.Env = environment.imageEnvironment.strings
        case .label(let pairs):
            var labels = config.Labels ?? [:]
            for pair in pairs { labels[pair.key] = pair.value }
            config.Labels = labels
        case .expose(let ports):
            var exposed = config.ExposedPorts ?? [:]
            for spec in ports {
                for port in try exposedPorts(spec, instruction: instruction) { exposed[port] = EmptyObject() }
            }
            config.ExposedPorts = exposed
        case .volume(let paths):
            var volumes = config.Volumes ?? [:]
            for path in paths { volumes[path] = EmptyObject() }
            config.Volumes = volumes
        case .user(let user):
            config.User = user
        case .workdir(let path):
            config.WorkingDir = workingDirectory(path, after: config.WorkingDir)
        case .shell(let shell):
            config.Shell = shell
        case .stopSignal(let signal):
            config.StopSignal = signal
        case .healthcheck(let check):
            var health = ImageConfig.HealthConfig(test: check.configTest)
            health.Interval = check.interval
            health.Timeout = check.timeout
            health.StartPeriod = check.startPeriod
            health.StartInterval = check.startInterval
            health.Retries = check.retries
            config.Healthcheck = health
        case .onbuild(let trigger):
            config.OnBuild = (config.OnBuild ?? []) + [trigger.expression]
        case .from, .run, .copy, .add, .arg, .maintainer:
            return false
        }
        return true
    }

    /// A CMD's or ENTRYPOINT's arguments: the exec form as written, the shell form through
    /// the configured SHELL (`/bin/sh -c` by default).
    static func command(_ form: CommandForm, shell: [String]?) -> [String] {
        switch form {
        case .exec(let args): return args
        case .shell(let line): return (shell ?? ["/bin/sh", "-c"]) + [line]
        }
    }

    /// WORKDIR `path` after `previous`: a relative path joins the previous one, and the
    /// result is cleaned and absolute.
    static func workingDirectory(_ path: String, after previous: String?) -> String {
        let base = previous.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        let joined = path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base : base + "/") + path
        let cleaned = BuildContext.clean(joined)
        return cleaned == "." ? "/" : "/" + cleaned
    }

    /// An EXPOSE word as docker reads it (go-connections' `ParsePortSpecs`): `PORT`,
    /// `PORT/PROTO` or a range `START-END[/PROTO]`, expanded to one `PORT/PROTO` each;
    /// `[IP:][HOSTPORT:]` in front is dropped. Protocols tcp, udp and sctp.
    static func exposedPorts(_ spec: String, instruction: Instruction) throws(BuildError) -> [String] {
        func bad(_ why: String) -> BuildError { .invalid("\(instruction.location): EXPOSE: invalid port \"\(spec)\": \(why)") }
        var text = spec
        var proto = "tcp"
        if let slash = text.lastIndex(of: "/") {
            proto = text[text.index(after: slash)...].lowercased()
            text = String(text[..<slash])
        }
        guard ["tcp", "udp", "sctp"].contains(proto) else { throw bad("unknown protocol \(proto)") }
        if let colon = text.lastIndex(of: ":") { text = String(text[text.index(after: colon)...]) }
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count <= 2, let first = UInt32(bounds[0]), let last = UInt32(bounds.last ?? bounds[0]),
              first >= 1, last <= 65535, first <= last else {
            throw bad("expected a port (1-65535) or a range START-END")
        }
        return (first...last).map { "\($0)/\(proto)" }
    }
}
