@testable import Dockerfile
import Testing

/// Reading lines: comments, directives, continuations, whitespace, line endings, BOM.
@Suite struct LexerTests {
    @Test("comments only at the start of a line; # elsewhere is an argument")
    func comments() throws {
        let list = try instructions("""
            # Comment
            RUN echo 'we are running some # of cool things'
                # indented comment
            """)
        #expect(list.count == 1)
        #expect(list[0].kind == .run(.init(command: .shell("echo 'we are running some # of cool things'"), heredocs: [],
                                           mounts: [], network: .default, security: .sandbox)))
    }

    @Test("comment and empty lines inside a continuation are skipped; the escape joins without a separator")
    func continuationWithComments() throws {
        let list = try instructions("RUN echo hello \\\n# comment\nworld\n")
        guard case .run(let run) = list[0].kind else { Issue.record("not RUN"); return }
        #expect(run.command == .shell("echo hello world"))
        #expect(list[0].location.line == 2 && list[0].location.endLine == 4)

        let doc = try parse("FROM scratch\nRUN echo a \\\n\n   \nb\n")
        guard case .run(let r2) = doc.stages[0].instructions[0].kind else { Issue.record("not RUN"); return }
        #expect(r2.command == .shell("echo a b"))
        #expect(doc.warnings.count == 1)
    }

    @Test("leading whitespace of continuation lines is kept, of instructions dropped")
    func whitespace() throws {
        let list = try instructions("        RUN echo \"\\\n     hello\\\n     world\"\n")
        guard case .run(let run) = list[0].kind else { Issue.record("not RUN"); return }
        #expect(run.command == .shell("echo \"     hello     world\""))
    }

    @Test("an escaped escape at the end of a line is not a continuation; spaces after the escape are")
    func escapedEscape() throws {
        let list = try instructions("RUN echo a\\\\\nRUN echo b \\  \t\n c\n")
        #expect(list.count == 2)
        guard case .run(let r1) = list[0].kind, case .run(let r2) = list[1].kind else { Issue.record("not RUN"); return }
        #expect(r1.command == .shell("echo a\\\\"))
        #expect(r2.command == .shell("echo b  c"))
    }

    @Test("instructions are case-insensitive")
    func caseInsensitive() throws {
        let doc = try parse("from alpine as Build\nrun echo hi\nWorkDir /x\n")
        #expect(doc.stages[0].name == "build")
        #expect(doc.stages[0].instructions.map(\.name) == ["RUN", "WORKDIR"])
        #expect(doc.stages[0].instructions[1].keyword == "WorkDir")
    }

    @Test("CRLF line endings and a UTF-8 byte-order mark")
    func crlfAndBOM() throws {
        let text = "# escape=`\r\nFROM alpine\r\nRUN echo a `\r\n  b\r\nENV A=1\r\n"
        let doc = try Dockerfile.parse(bytes: [0xEF, 0xBB, 0xBF] + Array(text.utf8))
        #expect(doc.directives.escape == "`")
        guard case .run(let run) = doc.stages[0].instructions[0].kind else { Issue.record("not RUN"); return }
        #expect(run.command == .shell("echo a   b"))
        #expect(doc.stages[0].instructions[1].kind == .env([KeyValue(key: "A", value: "1")]))
    }

    @Test("directives: syntax, escape, check; case-insensitive keys, spaces around =")
    func directives() throws {
        let doc = try parse("# syntax=docker/dockerfile:1\n#  ESCAPE = `\n# check=skip=all\nFROM a\n")
        #expect(doc.directives.syntax == "docker/dockerfile:1")
        #expect(doc.directives.escape == "`")
        #expect(doc.directives.check == "skip=all")
        for text in ["#syntax=value\n", "# syntax =value\n", "#\tsyntax= value\n", "# syntax = value\n",
                     "#\t  sYnTaX=value\n"] {
            #expect(try parse(text + "FROM a\n").directives.syntax == "value")
        }
    }

    @Test("directives only before any comment, blank line or instruction")
    func directivesEnd() throws {
        #expect(try parse("FROM a\n# escape=`\n").directives.escape == "\\")
        #expect(try parse("# About my dockerfile\n# escape=`\nFROM a\n").directives.escape == "\\")
        #expect(try parse("\n# escape=`\nFROM a\n").directives.escape == "\\")
        #expect(try parse("# unknowndirective=value\n# syntax=value\nFROM a\n").directives.syntax == nil)
        // A directive cannot be continued: the first line is a comment, the second an instruction.
        #expect(parseError("# direc \\\ntive=value\nFROM a\n")?.description == "Dockerfile:2: unknown instruction: tive=value")
    }

    @Test("duplicate directives and bad escape characters are errors with the line")
    func directiveErrors() {
        let dup = parseError("# syntax=a\n# syntax=b\nFROM a\n")
        #expect(dup?.description == "Dockerfile:2: only one syntax parser directive can be used")
        let dupCase = parseError("# escape=\\\n# ESCAPE=`\nFROM a\n")
        #expect(dupCase?.location?.line == 2)
        let bad = parseError("# escape=x\nFROM a\n")
        #expect(bad == .invalidDirective(SourceLocation(file: "Dockerfile", line: 1), "invalid escape token 'x' does not match ` or \\"))
    }

    @Test("backtick escape: backslashes are literal, backtick continues lines (Windows example)")
    func backtickEscape() throws {
        let doc = try parse("""
            # escape=`

            FROM mcr.microsoft.com/windows/servercore
            COPY testfile.txt c:\\
            RUN dir c:\\
            RUN echo a `
                b
            """)
        let list = doc.stages[0].instructions
        guard case .copy(let copy) = list[0].kind, case .run(let r1) = list[1].kind, case .run(let r2) = list[2].kind else {
            Issue.record("kinds")
            return
        }
        #expect(copy.sources == ["testfile.txt"] && copy.destination == "c:\\")
        #expect(r1.command == .shell("dir c:\\"))
        #expect(r2.command == .shell("echo a     b"))
    }

    @Test("without the escape directive a trailing backslash continues the line (the reference's failing Windows case)")
    func windowsWithoutDirective() throws {
        let list = try instructions("COPY testfile.txt c:\\\\\nRUN dir c:\\\n")
        #expect(list.count == 2)
        let joined = try instructions("COPY testfile.txt c:\\\nRUN dir c:\\\n")
        #expect(joined.count == 1)
        guard case .copy(let copy) = joined[0].kind else { Issue.record("kind"); return }
        #expect(copy.sources == ["testfile.txt", "c:RUN", "dir"] && copy.destination == "c:")
    }

    @Test("a file with no instructions, and an instruction before FROM")
    func emptyAndBeforeFrom() {
        #expect(parseError("# just a comment\n\n") == .noInstructions(file: "Dockerfile"))
        #expect(parseError("") == .noInstructions(file: "Dockerfile"))
        #expect(parseError("RUN x\nFROM a\n")?.description.hasPrefix("Dockerfile:1: no build stage") == true)
        #expect(throws: Never.self) { try parse("ARG A=1\nARG B\nFROM a\n") }
        #expect(parseError("ARG A=1\n") == .noStages(file: "Dockerfile"))
    }

    @Test("unknown instructions name the file and line")
    func unknownInstruction() {
        let e = parseError("FROM a\nRUN true\n\n# c\nRUN \\\n  a\nRUNN x\n", file: "app/Containerfile")
        #expect(e?.description == "app/Containerfile:7: unknown instruction: RUNN")
    }
}
