/// Which parts of each instruction the builder substitutes variables in, as BuildKit
/// does: ADD, COPY, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, RUN's
/// `--mount` values, and heredoc bodies with unquoted delimiters; never CMD, ENTRYPOINT,
/// SHELL, HEALTHCHECK, MAINTAINER, ONBUILD (its trigger is substituted when it runs),
/// RUN's command (the shell does it), or `COPY --from`. FROM is substituted with the
/// global scope (`expandedFrom`). ARG is handled by `StageEnvironment.declare`.
extension Instruction {
    /// This instruction with variables substituted from `env`; errors carry the line.
    public func expanded(_ env: some VariableLookup, escape: Unicode.Scalar = "\\") throws(DockerfileError) -> Instruction {
        let lexer = ShellLexer(escape: escape)
        func word(_ s: String) throws(DockerfileError) -> String { try lexer.word(s, env) }
        func optional(_ s: String?) throws(DockerfileError) -> String? {
            guard let s else { return nil }
            return try word(s)
        }
        func inline(_ sources: [InlineSource]) throws(DockerfileError) -> [InlineSource] {
            var out: [InlineSource] = []
            for var source in sources {
                if source.heredoc.expand {
                    var raw = ShellLexer(escape: "\\")
                    raw.skipProcessQuotes = true
                    source.heredoc.content = try raw.word(source.heredoc.body, env)
                    source.heredoc.chomp = false
                }
                out.append(source)
            }
            return out
        }
        var copy = self
        do {
            switch kind {
            case .env(let pairs):
                var out: [KeyValue] = []
                for p in pairs { out.append(KeyValue(key: try word(p.key), value: try word(p.value), legacy: p.legacy)) }
                copy.kind = .env(out)
            case .label(let pairs):
                var out: [KeyValue] = []
                for p in pairs { out.append(KeyValue(key: try word(p.key), value: try word(p.value), legacy: p.legacy)) }
                copy.kind = .label(out)
            case .copy(var c):
                c.sources = try c.sources.map { (s) throws(DockerfileError) in try word(s) }
                c.destination = try word(c.destination)
                c.chown = try optional(c.chown)
                c.chmod = try optional(c.chmod)
                c.inlineSources = try inline(c.inlineSources)
                copy.kind = .copy(c)
            case .add(var a):
                a.sources = try a.sources.map { (s) throws(DockerfileError) in try word(s) }
                a.destination = try word(a.destination)
                a.chown = try optional(a.chown)
                a.chmod = try optional(a.chmod)
                a.checksum = try optional(a.checksum)
                a.inlineSources = try inline(a.inlineSources)
                copy.kind = .add(a)
            case .workdir(let p): copy.kind = .workdir(try word(p))
            case .user(let u): copy.kind = .user(try word(u))
            case .stopSignal(let s): copy.kind = .stopSignal(try word(s))
            case .volume(let v): copy.kind = .volume(try v.map { (s) throws(DockerfileError) in try word(s) })
            case .expose(let ports):
                var out: [String] = []
                for p in ports { out += try lexer.words(p, env) }
                copy.kind = .expose(out)
            case .run(var r):
                var mounts: [RunMount] = []
                for m in r.mounts {
                    mounts.append(try RunMount(parsing: m.specification, expand: { (s) throws(DockerfileError) in try word(s) }))
                }
                r.mounts = mounts
                copy.kind = .run(r)
            case .from(let f):
                copy.kind = .from(try Self.expandedFrom(f, global: env, escape: escape))
            case .cmd, .entrypoint, .shell, .healthcheck, .maintainer, .onbuild, .arg:
                break
            }
        } catch {
            throw error.at(location)
        }
        return copy
    }

    /// A FROM line's image and platform substituted with the global scope; a blank image
    /// is an error as in BuildKit.
    public static func expandedFrom(_ from: From, global: some VariableLookup, escape: Unicode.Scalar = "\\") throws(DockerfileError) -> From {
        let lexer = ShellLexer(escape: escape)
        var out = from
        out.image = try lexer.word(from.image, global)
        if out.image.isEmpty {
            throw .substitution(nil, "base name (\(from.image)) should not be blank")
        }
        if let p = from.platform {
            let v = try lexer.word(p, global)
            if v.isEmpty { throw .substitution(nil, "empty platform value from expression \(p)") }
            out.platform = v
        }
        return out
    }
}

/// EXPOSE's port specifications after substitution: `80`, `80/tcp`, `53/udp`,
/// `8000-8002/tcp` (expanded to each port), protocols lower-cased, `tcp` when none is
/// given; `[ip:][hostPort:]port` is accepted (its parts checked, then ignored) as
/// BuildKit accepts it.
public enum ExposedPorts {
    public static func parse(_ specs: [String]) throws(DockerfileError) -> [String] {
        var out: [String] = []
        for spec in specs {
            func fail(_ m: String) -> DockerfileError { .substitution(nil, "invalid port: \"\(spec)\": \(m)") }
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
            let containerPart = parts[parts.count - 1]
            let hostPort = parts.count >= 2 ? parts[parts.count - 2] : nil
            var port = containerPart
            var proto = "tcp"
            if let slash = containerPart.firstIndex(of: "/") {
                port = containerPart[..<slash]
                let given = containerPart[containerPart.index(after: slash)...].lowercased()
                if !given.isEmpty { proto = given }
            }
            guard !port.isEmpty else { throw fail("no port specified") }
            guard ["tcp", "udp", "sctp"].contains(proto) else { throw fail("invalid proto: \(proto)") }
            guard let (start, end) = range(port) else { throw fail("invalid containerPort: \(port)") }
            if let hostPort, !hostPort.isEmpty {
                guard let (hs, he) = range(hostPort) else { throw fail("invalid hostPort: \(hostPort)") }
                if end - start != he - hs && end != start {
                    throw fail("invalid ranges specified for container and host Ports: \(port) and \(hostPort)")
                }
            }
            for p in start...end { out.append("\(p)/\(proto)") }
        }
        return out
    }

    /// `N` or `N-M`, each 0...65535, M >= N.
    private static func range(_ text: Substring) -> (Int, Int)? {
        let bounds = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let start = Int(bounds[0]), (0...65535).contains(start) else { return nil }
        guard bounds.count == 2, bounds[1] != bounds[0] else { return (start, start) }
        guard let end = Int(bounds[1]), (0...65535).contains(end), end >= start else { return nil }
        return (start, end)
    }
}
