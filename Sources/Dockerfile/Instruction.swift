/// One instruction of a Dockerfile, typed and checked, with where it was written. Values
/// are kept as written (quotes and `$` references included) wherever BuildKit substitutes
/// them later, because substitution depends on the stage's variables at that point of the
/// build; `expanded(_:escape:)` does that step.
public struct Instruction: Sendable, Equatable {
    public var kind: Kind
    public var location: SourceLocation
    /// The instruction word as written (`run`, `RUN`).
    public var keyword: String
    /// The logical line as read (continuations joined, without heredoc bodies).
    public var original: String

    public init(kind: Kind, location: SourceLocation, keyword: String, original: String) {
        self.kind = kind
        self.location = location
        self.keyword = keyword
        self.original = original
    }

    /// What the instruction is, with its typed arguments (indirect for ONBUILD's trigger).
    public indirect enum Kind: Sendable, Equatable {
        case from(From)
        case run(Run)
        case cmd(CommandForm)
        case entrypoint(CommandForm)
        case env([KeyValue])
        case arg([ArgDefinition])
        case label([KeyValue])
        case expose([String])
        case volume([String])
        case user(String)
        case workdir(String)
        case shell([String])
        case stopSignal(String)
        case healthcheck(Healthcheck)
        case onbuild(Onbuild)
        case copy(Copy)
        case add(Add)
        case maintainer(String)
    }

    /// The instruction's name in upper case (`RUN`).
    public var name: String {
        switch kind {
        case .from: "FROM"
        case .run: "RUN"
        case .cmd: "CMD"
        case .entrypoint: "ENTRYPOINT"
        case .env: "ENV"
        case .arg: "ARG"
        case .label: "LABEL"
        case .expose: "EXPOSE"
        case .volume: "VOLUME"
        case .user: "USER"
        case .workdir: "WORKDIR"
        case .shell: "SHELL"
        case .stopSignal: "STOPSIGNAL"
        case .healthcheck: "HEALTHCHECK"
        case .onbuild: "ONBUILD"
        case .copy: "COPY"
        case .add: "ADD"
        case .maintainer: "MAINTAINER"
        }
    }
}

/// The exec (JSON array) or shell form of RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD: the
/// builder runs the first directly and the second through the stage's SHELL.
public enum CommandForm: Sendable, Equatable {
    case exec([String])
    case shell(String)
}

/// `NAME=value` of ENV and LABEL, as written (quotes are removed by substitution).
/// `legacy` marks the old `ENV NAME value` form.
public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: String
    public var legacy: Bool

    public init(key: String, value: String, legacy: Bool = false) {
        self.key = key
        self.value = value
        self.legacy = legacy
    }
}

/// One name of an ARG, with its default as written if it has one.
public struct ArgDefinition: Sendable, Equatable {
    public var name: String
    public var defaultValue: String?

    public init(name: String, defaultValue: String? = nil) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

extension Instruction {
    /// `FROM [--platform=P] IMAGE [AS NAME]`.
    public struct From: Sendable, Equatable {
        public var image: String
        /// The stage name, lower-cased as BuildKit does.
        public var stageName: String?
        public var platform: String?
    }

    /// `RUN [--mount=...]... [--network=...] [--security=...] COMMAND`.
    public struct Run: Sendable, Equatable {
        /// `--network`: the step's network namespace (the default one, none, or the host's).
        public enum Network: String, Sendable { case `default`, none, host }
        /// `--security`: `insecure` asks for a privileged step (an entitlement the build must grant).
        public enum Security: String, Sendable { case sandbox, insecure }

        public var command: CommandForm
        /// Heredocs the command line opens, in order, with their bodies.
        public var heredocs: [Heredoc]
        public var mounts: [RunMount]
        public var network: Network
        public var security: Security
    }

    /// `HEALTHCHECK [OPTIONS] CMD command` or `HEALTHCHECK NONE`. Durations are in
    /// nanoseconds like the image config's; nil when not given.
    public struct Healthcheck: Sendable, Equatable {
        /// `NONE` (disable the base image's check) or the command to run.
        public enum Test: Sendable, Equatable {
            case none
            case command(CommandForm)
        }

        public var test: Test
        public var interval: Int64?
        public var timeout: Int64?
        public var startPeriod: Int64?
        public var startInterval: Int64?
        public var retries: Int?

        /// The image config's `Test` array: `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", "..."]`.
        public var configTest: [String] {
            switch test {
            case .none: ["NONE"]
            case .command(.exec(let args)): ["CMD"] + args
            case .command(.shell(let line)): ["CMD-SHELL", line]
            }
        }
    }

    /// `ONBUILD INSTRUCTION`: the trigger as the image config stores it, and parsed.
    public struct Onbuild: Sendable, Equatable {
        public var expression: String
        public var trigger: Instruction
    }

    /// A file written inline by COPY or ADD from a heredoc (`COPY <<EOF /dest`).
    public struct InlineSource: Sendable, Equatable {
        public var heredoc: Heredoc
        /// The file name: the heredoc's delimiter.
        public var path: String { heredoc.name }
    }

    /// `COPY [--from] [--chown] [--chmod] [--link] [--parents] [--exclude]... SRC... DEST`.
    public struct Copy: Sendable, Equatable {
        public var sources: [String]
        public var inlineSources: [InlineSource]
        public var destination: String
        public var from: String?
        public var chown: String?
        public var chmod: String?
        public var link: Bool
        public var parents: Bool
        public var excludes: [String]
    }

    /// `ADD [--chown] [--chmod] [--link] [--keep-git-dir] [--checksum] [--unpack] [--exclude]... SRC... DEST`.
    public struct Add: Sendable, Equatable {
        public var sources: [String]
        public var inlineSources: [InlineSource]
        public var destination: String
        public var chown: String?
        public var chmod: String?
        public var link: Bool
        public var keepGitDir: Bool?
        public var checksum: String?
        public var unpack: Bool?
        public var excludes: [String]
    }
}
