@testable import Dockerfile
import Testing

/// Variable substitution (BuildKit's shell lexer), checked against BuildKit's own
/// behaviour tables (frontend/dockerfile/shell/envVarTest and wordsTest) and the
/// reference's examples.
@Suite struct ExpansionTests {
    /// `input | expected` with PWD=/home SHELL=bash KOREAN=한국어 NULL= ("error" = fails).
    static let wordTable = #"""
        hello                    |     hello
        he'll'o                  |     hello
        he'llo                   |     error
        he\'llo                  |     he'llo
        he\\'llo                 |     error
        abc\tdef                 |     abctdef
        "abc\tdef"               |     abc\tdef
        "abc\\tdef"              |     abc\tdef
        'abc\tdef'               |     abc\tdef
        hello\                   |     hello
        hello\\                  |     hello\
        "hello                   |     error
        "hello\"                 |     error
        "hel'lo"                 |     hel'lo
        'hello                   |     error
        'hello\'                 |     hello\
        'hello\there'            |     hello\there
        'hello\\there'           |     hello\\there
        "''"                     |     ''
        $.                       |     $.
        he$1x                    |     hex
        he$.x                    |     he$.x
        he$pwd.                  |     he.
        he$PWD                   |     he/home
        he\$PWD                  |     he$PWD
        he\\$PWD                 |     he\/home
        "he\$PWD"                |     he$PWD
        "he\\$PWD"               |     he\/home
        \${}                     |     ${}
        \${}aaa                  |     ${}aaa
        he\${}                   |     he${}
        he\${}xx                 |     he${}xx
        ${}                      |     error
        ${}aaa                   |     error
        he${}                    |     error
        he${}xx                  |     error
        he${hi}                  |     he
        he${hi}xx                |     hexx
        he${PWD}                 |     he/home
        he${.}                   |     error
        he${XXX:-000}xx          |     he000xx
        he${PWD:-000}xx          |     he/homexx
        he${XXX:-$PWD}xx         |     he/homexx
        he${XXX:-${PWD:-yyy}}xx  |     he/homexx
        he${XXX:-${YYY:-yyy}}xx  |     heyyyxx
        he${XXX:YYY}             |     error
        he${XXX?}                |     error
        he${XXX:?}               |     error
        he${PWD?}                |     he/home
        he${PWD:?}               |     he/home
        he${NULL?}               |     he
        he${NULL:?}              |     error
        he${XXX:+${PWD}}xx       |     hexx
        he${PWD:+${XXX}}xx       |     hexx
        he${PWD:+${SHELL}}xx     |     hebashxx
        he${XXX:+000}xx          |     hexx
        he${PWD:+000}xx          |     he000xx
        'he${XX}'                |     he${XX}
        "he${PWD}"               |     he/home
        "he'$PWD'"               |     he'/home'
        "$PWD"                   |     /home
        '$PWD'                   |     $PWD
        '\$PWD'                  |     \$PWD
        '"hello"'                |     "hello"
        he\$PWD                  |     he$PWD
        "he\$PWD"                |     he$PWD
        'he\$PWD'                |     he\$PWD
        he${PWD                  |     error
        he${PWD:=000}xx          |     error
        he${PWD:+${PWD}:}xx      |     he/home:xx
        he${XXX:-\$PWD:}xx       |     he$PWD:xx
        he${XXX:-\${PWD}z}xx     |     he${PWDz}xx
        안녕하세요                 |     안녕하세요
        안'녕'하세요               |     안녕하세요
        안'녕하세요                |     error
        안녕\'하세요               |     안녕'하세요
        안\\'녕하세요              |     error
        안녕\t하세요               |     안녕t하세요
        "안녕\t하세요"             |     안녕\t하세요
        안녕${PWD:+${SHELL}}xx     |     안녕bashxx
        $KOREAN                    |     한국어
        안녕$KOREAN                |     안녕한국어
        ${{aaa}                   |     error
        ${aaa}}                   |     }
        ${aaa                     |     error
        ${{aaa:-bbb}              |     error
        ${aaa:-bbb}}              |     bbb}
        ${aaa:-bbb                |     error
        ${aaa:-bbb}               |     bbb
        ${aaa:-${bbb:-ccc}}       |     ccc
        ${aaa:-bbb ${foo}         |     error
        ${aaa:-bbb {foo}          |     bbb {foo
        ${:}                      |     error
        ${:-bbb}                  |     error
        ${:+bbb}                  |     error
        $1                        |
        ${1:-bbb}                 |     bbb
        $999aaa                   |     aaa
        ${999:-bbb}aaa            |     bbbaaa
        $001aaa                   |     aaa
        ${001:+bbb}aaa            |     aaa
        $@                        |
        $@@@                      |     @@
        ${@:-bbb}aaa              |     bbbaaa
        ${*:-bbb}                 |     bbb
        ${#}                      |
        ${?:+bbb}                 |
        ${-:-bbb}                 |     bbb
        $$                        |
        ${!:-bbb}                 |     bbb
        ${0}                      |
        """#

    @Test("BuildKit's substitution table (ProcessWord)")
    func wordTable() {
        let lexer = ShellLexer()
        var count = 0
        for line in Self.wordTable.split(separator: "\n") {
            let parts = line.split(separator: "|", omittingEmptySubsequences: false)
            let source = LineParsers.trimSpace(parts[0].unicodeScalars)
            let expected = LineParsers.trimSpace(parts[1].unicodeScalars)
            let result = try? lexer.word(source, [String: String].buildkitTestEnv)
            if expected == "error" {
                #expect(result == nil, "\(source) should fail, gave \(result ?? "")")
            } else {
                #expect(result == expected, "\(source)")
            }
            count += 1
        }
        #expect(count > 100)
    }

    @Test("BuildKit's word-splitting table (ProcessWords)")
    func wordsTable() {
        let lexer = ShellLexer()
        var env: [String: String] = [:]
        func check(_ source: String, _ expected: [String], _ sourceLocation: Testing.SourceLocation = #_sourceLocation) {
            let words = (try? lexer.words(source, env)) ?? ["error"]
            #expect(words == expected, "\(source)", sourceLocation: sourceLocation)
        }
        check("hello", ["hello"])
        check("hello${hi}bye", ["hellobye"])
        env["hi"] = "hi"
        check("hello${hi}bye", ["hellohibye"])
        env["space"] = "abc  def"
        check("hello${space}bye", ["helloabc", "defbye"])
        check("hello\"${space}\"bye", ["helloabc  defbye"])
        check("hello \"${space}\"bye", ["hello", "abc  defbye"])
        env["leading"] = "  ab c"
        check("hello${leading}def", ["hello", "ab", "cdef"])
        check("hello\"${leading}\" def", ["hello  ab c", "def"])
        check("hello\"${leading}\"", ["hello  ab c"])
        check("hello${leading}", ["hello", "ab", "c"])
        env["trailing"] = "ab c   "
        check("hello${trailing}", ["helloab", "c"])
        check("hello${trailing}d", ["helloab", "c", "d"])
        check("hello\"${trailing}\"d", ["helloab c   d"])
        check("hel\"lo${trailing}\"", ["helloab c   "])
        check("hello\" there  \"", ["hello there  "])
        check("hello there", ["hello", "there"])
        check("hello\\ there", ["hello there"])
        check("hello\" there", ["error"])
        check("hello\\\" there", ["hello\"", "there"])
        check("hello\"\\\\there\"", ["hello\\there"])
        check("hello\"\\there\"", ["hello\\there"])
        check("hello'\\\\there'", ["hello\\\\there"])
        check("hello'\\there'", ["hello\\there"])
        check("hello'$there'", ["hello$there"])
        check("\"\" a", ["a"])  // an empty quoted string makes no word
    }

    @Test("the reference's modifiers: ${v:-w} ${v-w} ${v:+w} ${v+w}")
    func modifiers() throws {
        let lexer = ShellLexer()
        let env = ["set": "value", "empty": ""]
        #expect(try lexer.word("${empty:-word}", env) == "word")
        #expect(try lexer.word("${empty-word}", env) == "")
        #expect(try lexer.word("${unset-word}", env) == "word")
        #expect(try lexer.word("${set:+word}", env) == "word")
        #expect(try lexer.word("${empty:+word}", env) == "")
        #expect(try lexer.word("${empty+word}", env) == "word")
        #expect(try lexer.word("${unset+word}", env) == "")
        #expect(throws: DockerfileError.self) { try lexer.word("${unset:?must be set}", env) }
        do {
            _ = try lexer.word("${unset:?must be set}", env)
        } catch {
            #expect(error.message.hasSuffix("unset: must be set"))
        }
    }

    @Test("the reference's pattern examples: # ## % %% / //")
    func patterns() throws {
        let lexer = ShellLexer()
        let env = ["str": "foobarbaz", "string": "foobarbaz", "path": "/usr/local/bin/tool.tar.gz"]
        #expect(try lexer.word("${str#f*b}", env) == "arbaz")
        #expect(try lexer.word("${str##f*b}", env) == "az")
        #expect(try lexer.word("${string%b*}", env) == "foobar")
        #expect(try lexer.word("${string%%b*}", env) == "foo")
        #expect(try lexer.word("${string/ba/fo}", env) == "fooforbaz")
        #expect(try lexer.word("${string//ba/fo}", env) == "fooforfoz")
        #expect(try lexer.word("${path##*/}", env) == "tool.tar.gz")
        #expect(try lexer.word("${path%.*}", env) == "/usr/local/bin/tool.tar")
        #expect(try lexer.word("${path%%.*}", env) == "/usr/local/bin/tool")
        #expect(try lexer.word("${path#/usr/}", env) == "local/bin/tool.tar.gz")
        #expect(try lexer.word("${str#x*}", env) == "foobarbaz")
        #expect(try lexer.word("${str/?a/__}", env) == "foo__rbaz")
        #expect(try lexer.word("${str//?a/_}", env) == "foo_r_z")
        #expect(try lexer.word(#"${str/\*/x}"#, ["str": "a*b"]) == "axb")
        #expect(try lexer.word("${unset#x}", env) == "")
        #expect(throws: DockerfileError.self) { try lexer.word("${str:#x}", env) }
        #expect(throws: DockerfileError.self) { try lexer.word(#"${str#\q}"#, env) }
        #expect(throws: DockerfileError.self) { try lexer.word("${str/a", env) }
    }

    @Test("the reference's example: WORKDIR ${FOO}, ADD . $FOO, COPY \\$FOO /quux")
    func referenceExample() throws {
        let doc = try parse("""
            FROM busybox
            ENV FOO=/bar
            WORKDIR ${FOO}   # WORKDIR /bar
            ADD . $FOO       # ADD . /bar
            COPY \\$FOO /quux # COPY $FOO /quux
            """)
        var env = StageEnvironment(global: VariableList())
        var expanded: [Instruction.Kind] = []
        for i in doc.stages[0].instructions {
            try env.apply(i)
            expanded.append(try i.expanded(env).kind)
        }
        // The `#` comments are arguments here, as BuildKit reads them.
        guard case .workdir(let w) = expanded[1], case .add(let add) = expanded[2], case .copy(let copy) = expanded[3] else {
            Issue.record("kinds")
            return
        }
        #expect(w == "/bar   # WORKDIR /bar")
        #expect(add.sources == [".", "/bar", "#", "ADD", "."] && add.destination == "/bar")
        #expect(copy.sources.first == "$FOO")
    }

    @Test("every variable of one instruction has the value from before it")
    func sameValueThroughoutInstruction() throws {
        let doc = try parse("FROM a\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n")
        var env = StageEnvironment(global: VariableList())
        for i in doc.stages[0].instructions { try env.apply(i) }
        #expect(env.value(of: "def") == "hello")
        #expect(env.value(of: "ghi") == "bye")
    }

    @Test("matched and unmatched variables are reported (for the build cache)")
    func matches() throws {
        let e = try ShellLexer().expand("$A ${B:-x} $C", ["A": "1", "C": ""])
        #expect(e.result == "1 x ")
        #expect(e.matched == ["A", "C"])
        #expect(e.unmatched == ["B"])
    }

    @Test("the backtick escape character in substitution")
    func backtick() throws {
        let lexer = ShellLexer(escape: "`")
        #expect(try lexer.word("c:\\dir `$HOME", ["HOME": "/root"]) == "c:\\dir $HOME")
        #expect(try lexer.word("\"a`\"b\"", [String: String]()) == "a\"b")
    }
}
