/// Where in which file something was written: the file name as the user named it and
/// the first and last physical lines (1-based) of the instruction, so every error can
/// say `Dockerfile:7: ...` like `docker build` does.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var endLine: Int

    public init(file: String, line: Int, endLine: Int? = nil) {
        self.file = file
        self.line = line
        self.endLine = endLine ?? line
    }

    public var description: String { "\(file):\(line)" }
}

/// Everything that can be wrong with a Dockerfile, a stage graph, a substitution or an
/// ignore file. Each case carries where it happened (when a place exists) and what was
/// found, so `caisson build` can print one precise line and tests can match the case.
public enum DockerfileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file holds no instruction at all (only comments, directives or blank lines).
    case noInstructions(file: String)
    /// The file has instructions but no FROM (only ARGs).
    case noStages(file: String)
    /// A parser directive is malformed: a duplicate, or an escape that is neither `\` nor a backtick.
    case invalidDirective(SourceLocation, String)
    /// A word that is not an instruction (`RUNN`).
    case unknownInstruction(SourceLocation, String)
    /// An instruction with wrong arguments (count, form, value), with BuildKit's message.
    case invalidInstruction(SourceLocation, instruction: String, String)
    /// A `--flag` the instruction does not have.
    case unknownFlag(SourceLocation, instruction: String, flag: String)
    /// A known flag with a bad value, a missing value, or given twice.
    case invalidFlag(SourceLocation, instruction: String, flag: String, String)
    /// A heredoc whose terminator never came.
    case unterminatedHeredoc(SourceLocation, delimiter: String)
    /// An instruction other than ARG before the first FROM.
    case instructionBeforeFrom(SourceLocation, String)
    /// Variable substitution failed (`${V:?msg}`, `${`, bad modifiers or patterns); the
    /// location is nil when the expander was called on its own.
    case substitution(SourceLocation?, String)
    /// Two stages with the same name.
    case duplicateStageName(SourceLocation, String)
    /// `--target` or a stage reference names no stage (and is not an image).
    case unknownStage(String, referencedAt: SourceLocation?)
    /// A stage that uses itself (`FROM a AS a`, `COPY --from=a` inside `a`).
    case stageRefersToItself(SourceLocation, String)
    /// Stages that depend on each other in a circle, in the order found.
    case stageCycle([String])
    /// A pattern in `.dockerignore` (or an `--exclude`) that cannot be compiled.
    case invalidIgnorePattern(file: String, line: Int, pattern: String, String)

    /// Where the error happened, when it has a place in a file.
    public var location: SourceLocation? {
        switch self {
        case .noInstructions, .noStages, .stageCycle, .invalidIgnorePattern: nil
        case .invalidDirective(let l, _), .unknownInstruction(let l, _), .invalidInstruction(let l, _, _),
             .unknownFlag(let l, _, _), .invalidFlag(let l, _, _, _), .unterminatedHeredoc(let l, _),
             .instructionBeforeFrom(let l, _), .duplicateStageName(let l, _), .stageRefersToItself(let l, _):
            l
        case .substitution(let l, _): l
        case .unknownStage(_, let l): l
        }
    }

    /// The message without its place.
    public var message: String {
        switch self {
        case .noInstructions: "file with no instructions"
        case .noStages: "dockerfile contains no stages to build"
        case .invalidDirective(_, let m): m
        case .unknownInstruction(_, let word): "unknown instruction: \(word)"
        case .invalidInstruction(_, _, let m): m
        case .unknownFlag(_, let instruction, let flag): "unknown flag: \(flag) (for \(instruction))"
        case .invalidFlag(_, _, _, let m): m
        case .unterminatedHeredoc(_, let d): "unterminated heredoc (expected \(d))"
        case .instructionBeforeFrom(_, let i): "no build stage in current context: \(i) before the first FROM"
        case .substitution(_, let m): m
        case .duplicateStageName(_, let n): "duplicate stage name \"\(n)\""
        case .unknownStage(let n, _): "unknown stage: \"\(n)\""
        case .stageRefersToItself(_, let n): "stage \"\(n)\" refers to itself"
        case .stageCycle(let names): "circular dependency between stages: \((names + names.prefix(1)).joined(separator: " -> "))"
        case .invalidIgnorePattern(_, _, let p, let m): "invalid pattern \"\(p)\": \(m)"
        }
    }

    public var description: String {
        switch self {
        case .noInstructions(let file), .noStages(let file): "\(file): \(message)"
        case .invalidIgnorePattern(let file, let line, _, _): "\(file):\(line): \(message)"
        default:
            if let location { "\(location): \(message)" } else { message }
        }
    }

    /// The same error placed at `location` when it had no place yet (substitution errors
    /// raised by the expander on its own).
    public func at(_ location: SourceLocation) -> DockerfileError {
        if case .substitution(nil, let m) = self { return .substitution(location, m) }
        return self
    }
}
