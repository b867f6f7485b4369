@testable import Dockerfile
import Testing

/// Random and mutated inputs never trap: every parser and matcher either succeeds or
/// throws a `DockerfileError`.
@Suite struct FuzzTests {
    /// A small deterministic generator (SplitMix64) so failures reproduce.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seeds: [String] = [
        ReferenceExampleTests.dockerfiles.joined(separator: "\n"),
        StageTests.multiStage,
        "# escape=`\nFROM a\nRUN echo `\n  b\nCOPY <<EOF /x\n$A ${B:-c} ${D#x*} ${E//a/b}\nEOF\n",
        "FROM a\nRUN --mount=type=cache,target=/c,\"id=x,y\" <<-'EOT' 3<<A\n\tx\n\tEOT\ny\nA\nHEALTHCHECK --interval=1s CMD [\"a\"]\n",
    ]

    static let alphabet: [String] = [
        "\n", "\r\n", " ", "\t", "\\", "`", "$", "{", "}", ":", "-", "+", "?", "#", "%", "/", "'", "\"", "[", "]", ",", "=",
        "<<", "<<-", "EOF", "RUN ", "FROM ", "COPY ", "ONBUILD ", "HEALTHCHECK ", "--mount=", "--from=", "type=", "a", "é",
        "\u{FEFF}", "\u{0}", "\u{85}", "${", "*", "**", "!",
    ]

    static func mutate(_ text: String, _ rng: inout Generator) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
            let op = Int.random(in: 0..<4, using: &rng)
            let position = scalars.isEmpty ? 0 : Int.random(in: 0...scalars.count, using: &rng)
            switch op {
            case 0 where !scalars.isEmpty && position < scalars.count:
                scalars.remove(at: position)
            case 1:
                scalars.insert(contentsOf: alphabet.randomElement(using: &rng)!.unicodeScalars, at: position)
            case 2 where !scalars.isEmpty:
                let end = min(scalars.count, position + Int.random(in: 0...40, using: &rng))
                if position < end { scalars.removeSubrange(position..<end) }
            default:
                let piece = Array(alphabet.randomElement(using: &rng)!.unicodeScalars)
                scalars.insert(contentsOf: piece + piece, at: position)
            }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    /// Everything the builder would do with a parsed file, so each path is exercised.
    static func exercise(_ text: String) {
        guard let doc = try? Dockerfile.parse(text) else { return }
        let global = (try? StageEnvironment.globalScope(metaArgs: doc.metaArgDefinitions, buildArguments: ["A": "x"],
                                                        platforms: BuildPlatforms(build: "linux/amd64"))) ?? VariableList()
        if let graph = try? StageGraph(doc, global: global) {
            _ = try? graph.stagesNeeded(for: nil)
        }
        for stage in doc.stages {
            var env = StageEnvironment(global: global, imageEnvironment: ["PATH=/bin"])
            for instruction in stage.instructions {
                try? env.apply(instruction)
                if case .expose(let ports)? = try? instruction.expanded(env).kind { _ = try? ExposedPorts.parse(ports) }
            }
        }
    }

    @Test("mutated Dockerfiles never trap")
    func mutatedDockerfiles() {
        var rng = Generator(state: 0xCA15_5011)
        for i in 0..<3000 {
            let seed = Self.seeds[i % Self.seeds.count]
            Self.exercise(Self.mutate(seed, &rng))
        }
    }

    @Test("hostile sizes: deep nesting, long patterns, long lines are errors or work, never a stack overflow")
    func hostileSizes() throws {
        let deep = String(repeating: "${a:-", count: 5000) + "x" + String(repeating: "}", count: 5000)
        #expect(throws: DockerfileError.self) { try ShellLexer().word(deep, [String: String]()) }
        #expect(try ShellLexer().word(String(repeating: "${a:-", count: 100) + "x" + String(repeating: "}", count: 100), [String: String]()) == "x")
        let longPattern = "${v#" + String(repeating: "*a", count: 20000) + "}"
        #expect(try ShellLexer().word(longPattern, ["v": "aaa"]) == "aaa")
        let ignore = try IgnoreFile(parsing: String(repeating: "*/", count: 20000) + "x\n")
        #expect(!ignore.excludes("a/x"))
        let doc = try parse("FROM a\nRUN " + String(repeating: "echo hi && ", count: 20000) + "true\n")
        #expect(doc.stages[0].instructions.count == 1)
        let json = "FROM a\nCMD " + String(repeating: "[", count: 100000) + "\n"
        #expect(try parse(json).stages[0].instructions.count == 1)
    }

    @Test("random bytes never trap the parser")
    func randomBytes() {
        var rng = Generator(state: 42)
        for _ in 0..<1500 {
            let count = Int.random(in: 0..<200, using: &rng)
            var bytes: [UInt8] = []
            for _ in 0..<count {
                // Mostly printable Dockerfile characters, sometimes anything.
                if Bool.random(using: &rng) {
                    bytes.append(Array("FROMRUN COPY<>$#\\`'\"{}[]=:-\n\r\t ".utf8).randomElement(using: &rng)!)
                } else {
                    bytes.append(UInt8.random(in: 0...255, using: &rng))
                }
            }
            _ = try? Dockerfile.parse(bytes: bytes)
        }
    }

    @Test("random words never trap substitution, patterns or ignore files")
    func randomWords() {
        var rng = Generator(state: 7)
        let env = ["A": "abc", "B": "", "C": "a b\nc*?"]
        for _ in 0..<4000 {
            var word = ""
            for _ in 0..<Int.random(in: 0..<24, using: &rng) { word += Self.alphabet.randomElement(using: &rng)! }
            for escape: Unicode.Scalar in ["\\", "`"] {
                var lexer = ShellLexer(escape: escape)
                _ = try? lexer.expand(word, env)
                lexer.rawQuotes = true
                lexer.skipUnsetEnv = true
                _ = try? lexer.expand(word, env)
                lexer.skipProcessQuotes = true
                _ = try? lexer.expand(word, env)
            }
            _ = try? Heredoc.markers(inLine: word)
            _ = try? RunMount(parsing: word, expand: { $0 })
            if let ignore = try? IgnoreFile(parsing: word) {
                _ = ignore.excludes("a/b/c.txt")
                _ = ignore.excludes(word)
            }
            _ = InstructionFlags.extract(from: Array(word.unicodeScalars), escape: "\\")
            _ = LineParsers.goDuration(word)
        }
    }
}
