/// Which stages a build needs and in what order. A multi-stage Dockerfile is a graph:
/// `FROM <earlier stage>`, `COPY --from=<stage|index>` and `RUN --mount=from=<stage>`
/// are edges; anything else they name is an image. The builder asks for the stages a
/// `--target` needs (dependencies first, so independent ones can run in parallel) and
/// gets unknown targets, bad indexes, self-references and cycles as errors.
public struct StageGraph: Sendable {
    /// A reference from one stage to another, with where it was written.
    public struct Edge: Sendable, Equatable {
        public var stage: Int
        public var location: SourceLocation
    }

    public let stages: [Stage]
    /// For each stage, the stages it uses, in the order written.
    public private(set) var edges: [[Edge]]
    /// For each stage, the images it uses through `COPY --from`/`--mount from=` (not FROM).
    public private(set) var images: [[String]]
    /// For each stage, its base: another stage or nil for an image (`baseImages`).
    public private(set) var baseStage: [Int?]
    /// For each stage, the base image after substitution (nil when the base is a stage).
    public private(set) var baseImages: [String?]

    /// Builds the graph; FROM lines are substituted with `global` (the global ARG scope).
    public init(_ dockerfile: Dockerfile, global: some VariableLookup = [String: String]()) throws(DockerfileError) {
        stages = dockerfile.stages
        edges = Array(repeating: [], count: stages.count)
        images = Array(repeating: [], count: stages.count)
        baseStage = Array(repeating: nil, count: stages.count)
        baseImages = Array(repeating: nil, count: stages.count)
        let escape = dockerfile.directives.escape
        var byName: [String: Int] = [:]
        for stage in stages {
            let from: Instruction.From
            do {
                from = try Instruction.expandedFrom(stage.from, global: global, escape: escape)
            } catch {
                throw error.at(stage.location)
            }
            // A FROM names a stage only if that stage is defined above it, and exactly
            // (BuildKit does not lower-case the base name, so `FROM Base` is an image).
            if let base = byName[from.image] {
                baseStage[stage.index] = base
                edges[stage.index].append(Edge(stage: base, location: stage.location))
            } else {
                baseImages[stage.index] = from.image
            }
            if let name = stage.name { byName[name] = stage.index }
        }
        var allByName: [String: Int] = [:]
        for stage in stages {
            if let name = stage.name { allByName[name] = stage.index }
        }
        for stage in stages {
            for instruction in stage.instructions {
                try addReferences(of: instruction, in: stage.index, byName: allByName, escape: escape)
            }
        }
    }

    private mutating func addReferences(of instruction: Instruction, in stage: Int, byName: [String: Int],
                                        escape: Unicode.Scalar) throws(DockerfileError) {
        var references: [(String, byIndex: Bool)] = []
        switch instruction.kind {
        case .copy(let c):
            if let from = c.from {
                // BuildKit refuses variables here: the stage must be known before the build.
                let literal = try? ShellLexer(escape: escape).word(from, [String: String]())
                if literal != from {
                    throw .invalidInstruction(instruction.location, instruction: "COPY",
                        "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround")
                }
                references.append((from, true))
            }
        case .run(let r):
            // `from=` of a mount is a stage name or an image, never an index (as in BuildKit).
            references += r.mounts.compactMap(\.from).map { ($0, false) }
        default:
            return
        }
        for (reference, byIndex) in references {
            let target: Int
            if byIndex, let index = Int(reference) {
                guard index >= 0 && index < stages.count else {
                    throw .unknownStage(reference, referencedAt: instruction.location)
                }
                target = index
            } else if let named = byName[reference.lowercased()] {
                target = named
            } else {
                images[stage].append(reference)
                continue
            }
            if target == stage {
                throw .stageRefersToItself(instruction.location, stages[stage].name ?? String(stage))
            }
            edges[stage].append(Edge(stage: target, location: instruction.location))
        }
    }

    /// The stage `--target` names (case-insensitive), or the last stage when nil.
    public func stageIndex(target: String?) throws(DockerfileError) -> Int {
        guard let last = stages.last else { throw .noStages(file: "Dockerfile") }
        guard let target else { return last.index }
        guard let stage = stages.first(where: { $0.name == target.lowercased() }) else {
            throw .unknownStage(target, referencedAt: nil)
        }
        return stage.index
    }

    /// The stages needed to build `target` (the last stage when nil), each after the
    /// stages it uses, the target last.
    public func stagesNeeded(for target: String?) throws(DockerfileError) -> [Int] {
        let root = try stageIndex(target: target)
        try checkAcyclic()
        var order: [Int] = []
        var visited = Set<Int>()
        // Iterative depth-first search, post-order.
        var stack: [(Int, Int)] = [(root, 0)]
        visited.insert(root)
        while let (node, next) = stack.last {
            if next < edges[node].count {
                stack[stack.count - 1].1 += 1
                let dep = edges[node][next].stage
                if !visited.contains(dep) {
                    visited.insert(dep)
                    stack.append((dep, 0))
                }
            } else {
                order.append(node)
                stack.removeLast()
            }
        }
        return order
    }

    /// Fails with the stages of a cycle, named (or numbered) in the order they depend on each other.
    public func checkAcyclic() throws(DockerfileError) {
        var color = Array(repeating: 0, count: stages.count)  // 0 new, 1 on the path, 2 done
        for start in stages.indices where color[start] == 0 {
            var stack: [(Int, Int)] = [(start, 0)]
            color[start] = 1
            while let (node, next) = stack.last {
                if next < edges[node].count {
                    stack[stack.count - 1].1 += 1
                    let dep = edges[node][next].stage
                    if color[dep] == 1 {
                        let path = stack.map(\.0)
                        let cycle = path[path.firstIndex(of: dep)!...]
                        throw .stageCycle(cycle.map { stages[$0].name ?? String($0) })
                    }
                    if color[dep] == 0 {
                        color[dep] = 1
                        stack.append((dep, 0))
                    }
                } else {
                    color[node] = 2
                    stack.removeLast()
                }
            }
        }
    }
}
