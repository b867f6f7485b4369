@testable import Dockerfile
import Testing

/// Here-documents on RUN, COPY and ADD.
@Suite struct HeredocTests {
    @Test("RUN <<EOF: the body, the lines it spans, substitution allowed")
    func runHeredoc() throws {
        let doc = try parse("""
            FROM debian
            RUN <<EOF
            apt-get update
            apt-get install -y vim
            EOF
            RUN echo after
            """)
        let list = doc.stages[0].instructions
        #expect(list.count == 2)
        guard case .run(let run) = list[0].kind else { Issue.record("kind"); return }
        #expect(run.command == .shell("<<EOF"))
        #expect(run.heredocs == [Heredoc(name: "EOF", expand: true, content: "apt-get update\napt-get install -y vim\n")])
        #expect(list[0].location.line == 2 && list[0].location.endLine == 5)
        #expect(list[1].location.line == 6)
    }

    @Test("a shebang heredoc and a heredoc as stdin of a command with redirection")
    func shebangAndRedirect() throws {
        let list = try instructions("""
            RUN <<EOT bash
              set -ex
              apt-get update
            EOT
            RUN python3 <<EOF > /hello
            print("Hello")
            EOF
            RUN <<EOF
            #!/usr/bin/env python
            print("hello world")
            EOF
            """)
        #expect(list.count == 3)
        guard case .run(let r0) = list[0].kind, case .run(let r1) = list[1].kind, case .run(let r2) = list[2].kind else { return }
        #expect(r0.command == .shell("<<EOT bash") && r0.heredocs[0].content == "  set -ex\n  apt-get update\n")
        #expect(r1.heredocs[0].name == "EOF" && r1.heredocs[0].content == "print(\"Hello\")\n")
        #expect(r2.heredocs[0].content.hasPrefix("#!/usr/bin/env python\n"))
    }

    @Test("<<-EOF strips leading tabs from the body and from the terminator line")
    func chomp() throws {
        guard case .run(let run) = try instruction("RUN <<-EOF\n\techo hello\n\t\techo world\n\tEOF\n") else { return }
        #expect(run.heredocs[0].chomp)
        #expect(run.heredocs[0].content == "\techo hello\n\t\techo world\n")
        #expect(run.heredocs[0].body == "echo hello\necho world\n")
    }

    @Test("quoted delimiters turn substitution off")
    func quoted() throws {
        let list = try instructions("""
            RUN <<"EOF"
            echo $HOME
            EOF
            RUN <<'EOF'
            echo $HOME
            EOF
            RUN <<E"O"F
            x
            EOF
            RUN <<EOF
            echo $HOME
            EOF
            """)
        let flags = list.compactMap { i -> Bool? in
            if case .run(let r) = i.kind { return r.heredocs.first?.expand }
            return nil
        }
        #expect(flags == [false, false, false, true])
        guard case .run(let r) = list[3].kind, case .run(let q) = list[0].kind else { return }
        #expect(try r.heredocs[0].expandedBody(["HOME": "/root"]) == "echo /root\n")
        #expect(try q.heredocs[0].expandedBody(["HOME": "/root"]) == "echo $HOME\n")
    }

    @Test("several heredocs on one line are read in order")
    func several() throws {
        guard case .run(let run) = try instruction("RUN <<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nfirst\nFILE1\nI am\nsecond\nFILE2\n") else { return }
        #expect(run.heredocs.map(\.name) == ["FILE1", "FILE2"])
        #expect(run.heredocs.map(\.content) == ["I am\nfirst\n", "I am\nsecond\n"])
    }

    @Test("COPY <<EOF /dest and COPY <<a <<b /dir/ become inline files")
    func copyHeredocs() throws {
        let list = try instructions("""
            COPY <<EOF /usr/share/nginx/html/index.html
            (your index page goes here)
            EOF
            COPY <<robots.txt <<humans.txt /usr/share/nginx/html/
            (robots content)
            robots.txt
            (humans content)
            humans.txt
            ADD <<-"EOT" local.txt /app/
            \tliteral $X
            \tEOT
            """)
        guard case .copy(let one) = list[0].kind, case .copy(let two) = list[1].kind, case .add(let add) = list[2].kind else {
            Issue.record("kinds")
            return
        }
        #expect(one.sources.isEmpty && one.destination == "/usr/share/nginx/html/index.html")
        #expect(one.inlineSources.map(\.path) == ["EOF"] && one.inlineSources[0].heredoc.content == "(your index page goes here)\n")
        #expect(two.inlineSources.map(\.path) == ["robots.txt", "humans.txt"])
        #expect(two.inlineSources.map(\.heredoc.content) == ["(robots content)\n", "(humans content)\n"])
        #expect(add.sources == ["local.txt"] && add.inlineSources[0].heredoc.body == "literal $X\n")
        #expect(!add.inlineSources[0].heredoc.expand)
    }

    @Test("heredocs only for RUN, COPY, ADD (and ONBUILD of those), not in JSON form")
    func onlySomeInstructions() throws {
        let list = try instructions("CMD <<EOF\nRUN echo x\n")
        #expect(list.count == 2)
        let json = try instructions(#"RUN ["cat", "<<EOF"]"# + "\nRUN echo x\n")
        #expect(json.count == 2)
        guard case .onbuild(let o) = try instruction("ONBUILD RUN <<EOF\necho hi\nEOF\n") else { return }
        #expect(o.expression == "RUN <<EOF\necho hi\nEOF")
        guard case .run(let r) = o.trigger.kind else { return }
        #expect(r.heredocs[0].content == "echo hi\n")
        // `<<` that is not a heredoc word (inside quotes) opens nothing.
        #expect(try instructions("RUN echo '<<EOF'\nRUN x\n").count == 2)
    }

    @Test("a heredoc body keeps CR LF line endings; the terminator may end with CR LF")
    func crlf() throws {
        guard case .run(let run) = try instruction("RUN <<EOF\r\necho a\r\nEOF\r\n") else { return }
        #expect(run.heredocs[0].content == "echo a\r\n")
    }

    @Test("unterminated heredocs and heredoc destinations are errors with the line")
    func errors() {
        #expect(parseError("FROM a\nRUN <<EOF\necho\n") == .unterminatedHeredoc(SourceLocation(file: "Dockerfile", line: 2, endLine: 3), delimiter: "EOF"))
        #expect(parseError("FROM a\nCOPY a <<EOF\nx\nEOF\n")?.message == "COPY cannot accept a heredoc as a destination")
    }

    @Test("heredoc markers: file descriptors, spaces, what is not a marker")
    func markers() throws {
        #expect(try Heredoc.marker("3<<EOF") == Heredoc(name: "EOF", fileDescriptor: 3, expand: true))
        #expect(try Heredoc.marker("<< EOF")?.name == "EOF")
        #expect(try Heredoc.marker("<<") == nil)
        #expect(try Heredoc.marker("a<<EOF") == nil)
        #expect(try Heredoc.marker("<<a<b") == nil)
        #expect(try Heredoc.markers(inLine: "RUN cat <<A <<-'B' x").map(\.name) == ["A", "B"])
    }
}
