/// The build and target platforms a build runs for, as the predefined ARGs describe
/// them (`TARGETPLATFORM=linux/arm64/v8`, `TARGETOS`, `TARGETARCH`, `TARGETVARIANT`, and
/// the same for `BUILD*`).
public struct BuildPlatforms: Sendable, Equatable {
    public var build: String
    public var target: String

    public init(build: String, target: String? = nil) {
        self.build = build
        self.target = target ?? build
    }

    /// The eight predefined platform ARGs, in BuildKit's order.
    public var arguments: [(String, String)] {
        func parts(_ p: String) -> (os: String, arch: String, variant: String) {
            let fields = p.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            return (fields.first ?? "", fields.count > 1 ? fields[1] : "", fields.count > 2 ? fields[2] : "")
        }
        let b = parts(build)
        let t = parts(target)
        return [
            ("BUILDPLATFORM", build), ("BUILDOS", b.os), ("BUILDARCH", b.arch), ("BUILDVARIANT", b.variant),
            ("TARGETPLATFORM", target), ("TARGETOS", t.os), ("TARGETARCH", t.arch), ("TARGETVARIANT", t.variant),
        ]
    }
}

/// An ordered set of variables where a later assignment replaces an earlier one in
/// place (BuildKit's env list). The builder needs the order for the image config's Env.
public struct VariableList: Sendable, Equatable, VariableLookup {
    public private(set) var entries: [(name: String, value: String)] = []

    public init(_ entries: [(String, String)] = []) {
        for (k, v) in entries { set(k, v) }
    }

    public mutating func set(_ name: String, _ value: String) {
        if let i = entries.firstIndex(where: { $0.name == name }) {
            entries[i].value = value
        } else {
            entries.append((name, value))
        }
    }

    public func value(of name: String) -> String? {
        entries.last(where: { $0.name == name })?.value
    }

    /// `NAME=value` strings, as in an image config.
    public var strings: [String] { entries.map { "\($0.name)=\($0.value)" } }

    public static func == (a: VariableList, b: VariableList) -> Bool {
        a.entries.elementsEqual(b.entries, by: { $0.name == $1.name && $0.value == $1.value })
    }
}

/// The variables visible at each point of a build, scoped as BuildKit scopes them:
/// the global scope (predefined platform ARGs and the ARGs before the first FROM, with
/// `--build-arg` values) is seen by FROM lines only; inside a stage, the base image's Env
/// and the stage's own ENV and ARG are seen, and a global ARG only after the stage
/// declares it again (`ARG NAME` without a value inherits the global value).
public struct StageEnvironment: Sendable, Equatable, VariableLookup {
    /// What substitution sees now: image Env, then the stage's ARGs and ENVs, latest wins.
    public private(set) var variables: VariableList
    /// The image config's Env: the base image's, then each ENV.
    public private(set) var imageEnvironment: VariableList
    /// The ARG names this stage declared, with their values if they have one.
    public private(set) var declaredArguments: [(name: String, value: String?)] = []
    public let buildArguments: [String: String]
    public let global: VariableList
    public let escape: Unicode.Scalar

    public static func == (a: StageEnvironment, b: StageEnvironment) -> Bool {
        a.variables == b.variables && a.imageEnvironment == b.imageEnvironment && a.global == b.global
            && a.buildArguments == b.buildArguments
            && a.declaredArguments.elementsEqual(b.declaredArguments, by: { $0.name == $1.name && $0.value == $1.value })
    }

    /// The global scope for FROM lines: the predefined platform ARGs, then each ARG before
    /// the first FROM (a `--build-arg` wins over its default; a default is substituted
    /// with the ARGs before it).
    public static func globalScope(metaArgs: [ArgDefinition], buildArguments: [String: String],
                                   platforms: BuildPlatforms, escape: Unicode.Scalar = "\\") throws(DockerfileError) -> VariableList {
        var list = VariableList(platforms.arguments)
        let lexer = ShellLexer(escape: escape)
        for arg in metaArgs {
            if let value = buildArguments[arg.name] {
                list.set(arg.name, value)
            } else if let value = arg.defaultValue {
                list.set(arg.name, try lexer.word(value, list))
            }
        }
        return list
    }

    /// A stage's scope at its start: the base image's Env (`NAME=value` strings).
    public init(global: VariableList, imageEnvironment: [String] = [], buildArguments: [String: String] = [:],
                escape: Unicode.Scalar = "\\") {
        var env = VariableList()
        for entry in imageEnvironment {
            if let eq = entry.firstIndex(of: "=") {
                env.set(String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
            } else {
                env.set(entry, "")
            }
        }
        self.variables = env
        self.imageEnvironment = env
        self.global = global
        self.buildArguments = buildArguments
        self.escape = escape
    }

    public func value(of name: String) -> String? { variables.value(of: name) }

    /// The lexer instructions are substituted with (the file's escape character).
    public var lexer: ShellLexer { ShellLexer(escape: escape) }

    /// Declares ARGs in the stage: a `--build-arg` value wins, then the default
    /// (substituted with what is visible now), then the global value of the same name.
    public mutating func declare(_ args: [ArgDefinition]) throws(DockerfileError) {
        for arg in args {
            var value: String?
            if let given = buildArguments[arg.name] {
                value = given
            } else if let def = arg.defaultValue {
                value = try lexer.word(def, variables)
            } else {
                value = global.value(of: arg.name)
            }
            if let value { variables.set(arg.name, value) }
            declaredArguments.append((arg.name, value))
        }
    }

    /// Sets ENV pairs; every pair of one instruction is substituted with the values from
    /// before that instruction (`ENV abc=bye def=$abc` sees the old `abc`).
    public mutating func setEnvironment(_ pairs: [KeyValue]) throws(DockerfileError) {
        let before = variables
        var expanded: [(String, String)] = []
        for pair in pairs {
            expanded.append((try lexer.word(pair.key, before), try lexer.word(pair.value, before)))
        }
        for (k, v) in expanded {
            variables.set(k, v)
            imageEnvironment.set(k, v)
        }
    }

    /// Applies what an instruction changes in scope (ENV, ARG); other instructions leave it.
    public mutating func apply(_ instruction: Instruction) throws(DockerfileError) {
        do {
            switch instruction.kind {
            case .env(let pairs): try setEnvironment(pairs)
            case .arg(let args): try declare(args)
            default: break
            }
        } catch {
            throw error.at(instruction.location)
        }
    }
}
