/// A parsed Dockerfile: its directives, the ARGs before the first FROM (which only FROM
/// lines see), and its stages in order. This is what `caisson build` plans from.
public struct Dockerfile: Sendable, Equatable {
    public var file: String
    public var directives: Directives
    /// The ARG instructions before the first FROM.
    public var metaArgs: [Instruction]
    public var stages: [Stage]
    /// BuildKit's non-fatal findings (empty continuation lines), each with its place.
    public var warnings: [String]

    /// Parses the text of a Dockerfile; `file` names it in errors (`Dockerfile:7: ...`).
    public static func parse(_ text: String, file: String = "Dockerfile") throws(DockerfileError) -> Dockerfile {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Parses a Dockerfile's bytes (a BOM and CR LF line endings are accepted).
    public static func parse(bytes: [UInt8], file: String = "Dockerfile") throws(DockerfileError) -> Dockerfile {
        var parser = Parser(bytes: bytes, file: file)
        let instructions = try parser.parseAll()
        guard !instructions.isEmpty else { throw .noInstructions(file: file) }
        var metaArgs: [Instruction] = []
        var stages: [Stage] = []
        for instruction in instructions {
            if case .from(let from) = instruction.kind {
                stages.append(Stage(index: stages.count, from: from, location: instruction.location, instructions: []))
            } else if stages.isEmpty {
                guard case .arg = instruction.kind else {
                    throw .instructionBeforeFrom(instruction.location, instruction.name)
                }
                metaArgs.append(instruction)
            } else {
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
        guard !stages.isEmpty else { throw .noStages(file: file) }
        var seen: [String: Int] = [:]
        for stage in stages {
            guard let name = stage.name else { continue }
            if seen[name] != nil { throw .duplicateStageName(stage.location, name) }
            seen[name] = stage.index
        }
        let warnings = parser.lexer.emptyContinuationLines.map {
            "\(file):\($0): empty continuation line (empty continuation lines will become errors in a future release)"
        }
        return Dockerfile(file: file, directives: parser.lexer.directives, metaArgs: metaArgs, stages: stages, warnings: warnings)
    }

    /// The ARG definitions before the first FROM, in order.
    public var metaArgDefinitions: [ArgDefinition] {
        metaArgs.flatMap { instruction -> [ArgDefinition] in
            if case .arg(let args) = instruction.kind { return args }
            return []
        }
    }
}

/// One build stage: a FROM and the instructions up to the next FROM.
public struct Stage: Sendable, Equatable {
    public var index: Int
    public var from: Instruction.From
    /// Where its FROM is.
    public var location: SourceLocation
    public var instructions: [Instruction]

    /// The `AS` name, lower-cased.
    public var name: String? { from.stageName }
}
