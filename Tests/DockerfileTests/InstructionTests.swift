@testable import Dockerfile
import Testing

/// Each instruction's forms, flags and errors.
@Suite struct InstructionTests {
    static func run(_ text: String) throws -> Instruction.Run {
        guard case .run(let r) = try instruction(text) else { throw Failure("not RUN") }
        return r
    }

    static func copy(_ text: String) throws -> Instruction.Copy {
        guard case .copy(let c) = try instruction(text) else { throw Failure("not COPY") }
        return c
    }

    static func add(_ text: String) throws -> Instruction.Add {
        guard case .add(let a) = try instruction(text) else { throw Failure("not ADD") }
        return a
    }

    struct Failure: Error {
        var message: String
        init(_ m: String) { message = m }
    }

    @Test("FROM: image, AS name (lower-cased), --platform, scratch, argument count, stage name rules")
    func from() throws {
        let doc = try parse("FROM --platform=$BUILDPLATFORM golang:1.22 AS Builder\nFROM scratch\nFROM builder\n")
        #expect(doc.stages.count == 3)
        #expect(doc.stages[0].from == .init(image: "golang:1.22", stageName: "builder", platform: "$BUILDPLATFORM"))
        #expect(doc.stages[1].from == .init(image: "scratch", stageName: nil, platform: nil))
        #expect(doc.stages[2].index == 2)
        #expect(parseError("FROM a b\n")?.message == "FROM requires either one or three arguments")
        #expect(parseError("FROM\n")?.message == "FROM requires either one or three arguments")
        #expect(parseError("FROM a AS 1x\n")?.message.hasPrefix("invalid name for build stage") == true)
        #expect(parseError("FROM a AS b$c\n") != nil)
        #expect(parseError("FROM --foo=x a\n") == .unknownFlag(SourceLocation(file: "Dockerfile", line: 1), instruction: "FROM", flag: "--foo"))
        #expect(parseError("FROM a AS x\nFROM b AS X\n") == .duplicateStageName(SourceLocation(file: "Dockerfile", line: 2), "x"))
    }

    @Test("RUN: shell form, exec form, invalid JSON falls back to the shell form, non-strings are an error")
    func runForms() throws {
        #expect(try Self.run("RUN apt-get update && apt-get install -y curl").command == .shell("apt-get update && apt-get install -y curl"))
        #expect(try Self.run(#"RUN ["/bin/bash", "-c", "echo hello"]"#).command == .exec(["/bin/bash", "-c", "echo hello"]))
        #expect(try Self.run(#"RUN [ "echo", "$HOME" ]"#).command == .exec(["echo", "$HOME"]))
        // The reference's Windows example: not valid JSON, so shell form.
        #expect(try Self.run(#"RUN ["c:\windows\system32\tasklist.exe"]"#).command == .shell(#"["c:\windows\system32\tasklist.exe"]"#))
        #expect(try Self.run(#"RUN ["c:\\windows\\system32\\tasklist.exe"]"#).command == .exec([#"c:\windows\system32\tasklist.exe"#]))
        #expect(try Self.run("RUN ['echo', 'single quotes']").command == .shell("['echo', 'single quotes']"))
        #expect(try Self.run(#"RUN ["echo", "a"] trailing"#).command == .shell(#"["echo", "a"] trailing"#))
        #expect(try Self.run("RUN []").command == .exec([]))
        #expect(try Self.run(#"RUN {"a": 1}"#).command == .shell(#"{"a": 1}"#))
        #expect(try Self.run(#"RUN ["\u0041\n"]"#).command == .exec(["A\n"]))
        let e = parseError("FROM a\nRUN [\"echo\", 1]\n")
        #expect(e?.description == "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only")
    }

    @Test("RUN --mount: every type and option, defaults, and BuildKit's checks")
    func runMounts() throws {
        let r = try Self.run("RUN --mount=type=cache,target=/root/.cache/go-build,id=gocache,sharing=locked,mode=0755,uid=1000,gid=1000 "
            + "--mount=type=bind,from=builder,source=/out,target=/in,rw "
            + "--mount=type=secret,id=aws,target=/root/.aws/credentials,required "
            + "--mount=type=tmpfs,dst=/tmp,size=64m "
            + "--mount=type=ssh,id=default,required=true "
            + "--mount=target=/src "
            + "--mount=type=secret,id=API_KEY,env=API_KEY "
            + "go build ./...")
        #expect(r.command == .shell("go build ./..."))
        #expect(r.mounts.count == 7)
        let cache = r.mounts[0]
        #expect(cache.type == .cache && cache.target == "/root/.cache/go-build" && cache.id == "gocache")
        #expect(cache.sharing == .locked && cache.mode == 0o755 && cache.uid == 1000 && cache.gid == 1000 && !cache.readOnly)
        // A bare `rw` is only taken at build time (BuildKit's parse-time pass skips bare keys).
        #expect(r.mounts[1].type == .bind && r.mounts[1].from == "builder" && r.mounts[1].source == "/out" && r.mounts[1].readOnly)
        #expect(r.mounts[2].type == .secret && r.mounts[2].id == "aws" && r.mounts[2].readOnly)
        #expect(r.mounts[3].type == .tmpfs && r.mounts[3].target == "/tmp" && r.mounts[3].sizeLimit == 64 << 20)
        #expect(r.mounts[4].type == .ssh && r.mounts[4].required)
        #expect(r.mounts[5].type == .bind && r.mounts[5].target == "/src")
        #expect(r.mounts[6].env == "API_KEY")
        let bare = try RunMount(parsing: "type=bind,target=/x,rw", expand: { $0 })
        #expect(!bare.readOnly)
        let secret = try RunMount(parsing: "type=secret,id=x,required", expand: { $0 })
        #expect(secret.required)

        for (bad, message) in [
            ("type=nfs", "unsupported mount type \"nfs\""),
            ("type=cache,sharing=exclusive", "unsupported sharing value \"exclusive\""),
            ("type=bind,sharing=locked", "invalid cache sharing set for bind mount"),
            ("type=bind,mode=0755", "mode not allowed for \"bind\" type mounts"),
            ("type=tmpfs,uid=1", "uid not allowed for \"tmpfs\" type mounts"),
            ("type=cache,size=1m", "unexpected key 'size' for mount type 'cache'"),
            ("type=secret,from=x,id=a", "secret mount should not have a from"),
            ("type=secret", "invalid secret mount. one of source, target required"),
            ("type=secret,source=a,id=b", "both source and id can't be set"),
            ("type=cache,uid=x", "invalid value x for uid"),
            ("type=cache,mode=9", "invalid value 9 for mode"),
            ("type=cache,color=red", "unexpected key 'color' in 'color=red'"),
            ("type=bind,from=$STAGE", "'from' doesn't support variable expansion, define alias stage instead"),
            ("type=bind,required=true", "unexpected key 'required' for mount type 'bind'"),
        ] {
            let e = parseError("FROM a\nRUN --mount=\(bad) true\n")
            #expect(e == .invalidFlag(SourceLocation(file: "Dockerfile", line: 2), instruction: "RUN", flag: "--mount", message), "\(bad)")
        }
        // Values that need substitution are left for the builder.
        let later = try Self.run("RUN --mount=type=cache,target=$CACHE,uid=$UID true")
        #expect(later.mounts[0].target == nil && later.mounts[0].uid == nil)
        let expanded = try RunMount(parsing: later.mounts[0].specification, expand: { (s) throws(DockerfileError) in
            try ShellLexer().word(s, ["CACHE": "/c", "UID": "7"])
        })
        #expect(expanded.target == "/c" && expanded.uid == 7)
        // Quoted CSV fields.
        let quoted = try RunMount(parsing: #"type=bind,"source=a,b",target=/t"#, expand: { $0 })
        #expect(quoted.source == "a,b")
    }

    @Test("RUN --network and --security")
    func runNetworkSecurity() throws {
        #expect(try Self.run("RUN --network=none pip install --find-links wheels mypackage").network == .none)
        #expect(try Self.run("RUN --network=host true").network == .host)
        #expect(try Self.run("RUN --network=default true").network == .default)
        #expect(try Self.run("RUN --security=insecure cat /proc/self/status | grep CapEff").security == .insecure)
        #expect(parseError("FROM a\nRUN --network=bridge true\n")?.message == "invalid network mode \"bridge\"")
        #expect(parseError("FROM a\nRUN --security=x true\n")?.message == "security \"x\" is not valid")
        #expect(parseError("FROM a\nRUN --device=nvidia.com/gpu=all true\n")
                == .unknownFlag(SourceLocation(file: "Dockerfile", line: 2), instruction: "RUN", flag: "--device"))
        #expect(parseError("FROM a\nRUN --network true\n")?.message == "missing a value on flag: --network")
        #expect(parseError("FROM a\nRUN --network=none --network=host true\n")?.message == "duplicate flag specified: --network")
        // `--` ends the flags; a later `--x` is part of the command.
        #expect(try Self.run("RUN -- --version").command == .shell("--version"))
    }

    @Test("CMD and ENTRYPOINT in both forms; flags are refused")
    func cmdEntrypoint() throws {
        #expect(try instruction(#"CMD ["executable","param1","param2"]"#) == .cmd(.exec(["executable", "param1", "param2"])))
        #expect(try instruction(#"CMD ["param1","param2"]"#) == .cmd(.exec(["param1", "param2"])))
        #expect(try instruction("CMD echo \"This is a test.\" | wc -") == .cmd(.shell("echo \"This is a test.\" | wc -")))
        #expect(try instruction(#"ENTRYPOINT ["top", "-b"]"#) == .entrypoint(.exec(["top", "-b"])))
        #expect(try instruction("ENTRYPOINT exec top -b") == .entrypoint(.shell("exec top -b")))
        #expect(try instruction("CMD") == .cmd(.shell("")))
        #expect(parseError("FROM a\nCMD --x=1 a\n") == .unknownFlag(SourceLocation(file: "Dockerfile", line: 2), instruction: "CMD", flag: "--x"))
    }

    @Test("SHELL must be a JSON array")
    func shell() throws {
        #expect(try instruction(#"SHELL ["powershell", "-command"]"#) == .shell(["powershell", "-command"]))
        #expect(try instruction(#"SHELL ["/bin/bash", "-c"]"#) == .shell(["/bin/bash", "-c"]))
        #expect(parseError("FROM a\nSHELL /bin/sh -c\n")?.message == "SHELL requires the arguments to be in JSON form")
        #expect(parseError("FROM a\nSHELL []\n")?.message == "SHELL requires at least one argument")
        #expect(parseError("FROM a\nSHELL\n")?.message == "SHELL requires at least one argument")
    }

    @Test("ENV: key=value pairs with quotes and escapes, and the legacy `ENV key value`")
    func env() throws {
        #expect(try instruction(#"ENV MY_NAME="John Doe" MY_DOG=Rex\ The\ Dog MY_CAT=fluffy"#) == .env([
            KeyValue(key: "MY_NAME", value: #""John Doe""#),
            KeyValue(key: "MY_DOG", value: #"Rex\ The\ Dog"#),
            KeyValue(key: "MY_CAT", value: "fluffy"),
        ]))
        #expect(try instruction("ENV MY_VAR my-value with spaces") == .env([KeyValue(key: "MY_VAR", value: "my-value with spaces", legacy: true)]))
        #expect(try instruction("ENV A=") == .env([KeyValue(key: "A", value: "")]))
        #expect(parseError("FROM a\nENV ONLYKEY\n")?.message == "ENV must have two arguments")
        #expect(parseError("FROM a\nENV A=1 B\n")?.message == #"Syntax error - can't find = in "B". Must be of the form: name=value"#)
        #expect(parseError("FROM a\nENV =x\n")?.message == "ENV names can not be blank")
        #expect(parseError("FROM a\nENV\n")?.message == "ENV requires at least one argument")
        // Substituted values lose their quotes and escapes.
        guard case .env(let pairs) = try instruction(#"ENV MY_NAME="John Doe" MY_DOG=Rex\ The\ Dog"#) else { return }
        let lexer = ShellLexer()
        #expect(try pairs.map { try lexer.word($0.value, [String: String]()) } == ["John Doe", "Rex The Dog"])
    }

    @Test("ARG: with and without defaults, several in one line, quoted defaults")
    func arg() throws {
        #expect(try instruction("ARG user1") == .arg([ArgDefinition(name: "user1")]))
        #expect(try instruction("ARG buildno=1 user1=someuser  other") == .arg([
            ArgDefinition(name: "buildno", defaultValue: "1"), ArgDefinition(name: "user1", defaultValue: "someuser"),
            ArgDefinition(name: "other"),
        ]))
        #expect(try instruction(#"ARG MSG="hello world""#) == .arg([ArgDefinition(name: "MSG", defaultValue: #""hello world""#)]))
        #expect(parseError("FROM a\nARG =x\n")?.message == "ARG names can not be blank")
        #expect(parseError("FROM a\nARG\n")?.message == "ARG requires at least one argument")
    }

    @Test("LABEL: pairs, quotes, continuation lines, several labels")
    func label() throws {
        let list = try instructions(#"""
            LABEL "com.example.vendor"="ACME Incorporated"
            LABEL com.example.label-with-value="foo"
            LABEL version="1.0"
            LABEL description="This text illustrates \
            that label-values can span multiple lines."
            LABEL multi.label1="value1" multi.label2="value2" other="value3"
            LABEL multi.label1="value1" \
                  multi.label2="value2" \
                  other="value3"
            """#)
        #expect(list.count == 6)
        guard case .label(let first) = list[0].kind, case .label(let description) = list[3].kind,
              case .label(let multi) = list[4].kind, case .label(let multi2) = list[5].kind else {
            Issue.record("kinds")
            return
        }
        let lexer = ShellLexer()
        #expect(try lexer.word(first[0].key, [String: String]()) == "com.example.vendor")
        #expect(try lexer.word(first[0].value, [String: String]()) == "ACME Incorporated")
        #expect(try lexer.word(description[0].value, [String: String]()) == "This text illustrates that label-values can span multiple lines.")
        #expect(multi.map(\.key) == ["multi.label1", "multi.label2", "other"])
        #expect(multi2.map(\.key) == ["multi.label1", "multi.label2", "other"])
    }

    @Test("EXPOSE: ports, protocols, ranges, variables (substituted and split later); sorted as BuildKit sorts them")
    func expose() throws {
        #expect(try instruction("EXPOSE 80/udp 80/tcp") == .expose(["80/tcp", "80/udp"]))
        guard case .expose(let ports) = try instruction("EXPOSE 8000-8002 $PORTS 53/UDP") else { return }
        let expanded = try Instruction(kind: .expose(ports), location: SourceLocation(file: "D", line: 1), keyword: "EXPOSE", original: "")
            .expanded(["PORTS": "9000 9001/udp"])
        guard case .expose(let words) = expanded.kind else { return }
        #expect(try ExposedPorts.parse(words) == ["9000/tcp", "9001/udp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"])
        #expect(try ExposedPorts.parse(["80/", "127.0.0.1:8080:80/UDP", "9000-9001:7000"]) == ["80/tcp", "80/udp", "7000/tcp"])
        #expect(throws: DockerfileError.self) { try ExposedPorts.parse(["8000-8001:80-82"]) }
        #expect(throws: DockerfileError.self) { try ExposedPorts.parse(["/tcp"]) }
        #expect(throws: DockerfileError.self) { try ExposedPorts.parse(["80/icmp"]) }
        #expect(throws: DockerfileError.self) { try ExposedPorts.parse(["70000"]) }
        #expect(throws: DockerfileError.self) { try ExposedPorts.parse(["90-80"]) }
        #expect(parseError("FROM a\nEXPOSE\n")?.message == "EXPOSE requires at least one argument")
    }

    @Test("VOLUME: JSON array or space-separated list")
    func volume() throws {
        #expect(try instruction(#"VOLUME ["/data"]"#) == .volume(["/data"]))
        #expect(try instruction("VOLUME /var/log /var/db") == .volume(["/var/log", "/var/db"]))
        #expect(parseError("FROM a\nVOLUME [\"\"]\n")?.message == "VOLUME specified can not be an empty string")
        #expect(parseError("FROM a\nVOLUME\n")?.message == "VOLUME requires at least one argument")
    }

    @Test("USER, WORKDIR, STOPSIGNAL, MAINTAINER take exactly one argument (the rest of the line)")
    func singles() throws {
        #expect(try instruction("USER patrick") == .user("patrick"))
        #expect(try instruction("USER 1000:1000") == .user("1000:1000"))
        #expect(try instruction("WORKDIR /path/to/workdir") == .workdir("/path/to/workdir"))
        #expect(try instruction("WORKDIR $DIRPATH/$DIRNAME") == .workdir("$DIRPATH/$DIRNAME"))
        #expect(try instruction("STOPSIGNAL SIGKILL") == .stopSignal("SIGKILL"))
        #expect(try instruction("MAINTAINER SvenDowideit <sven@example.com>") == .maintainer("SvenDowideit <sven@example.com>"))
        for word in ["USER", "WORKDIR", "STOPSIGNAL", "MAINTAINER"] {
            #expect(parseError("FROM a\n\(word)\n")?.message == "\(word) requires exactly one argument")
        }
    }

    @Test("HEALTHCHECK: CMD in both forms, options, NONE, and its errors")
    func healthcheck() throws {
        guard case .healthcheck(let h) = try instruction(
            "HEALTHCHECK --interval=5m --timeout=3s --start-period=30s --start-interval=500ms --retries=3 \\\n  CMD curl -f http://localhost/ || exit 1")
        else { Issue.record("kind"); return }
        #expect(h.test == .command(.shell("curl -f http://localhost/ || exit 1")))
        #expect(h.configTest == ["CMD-SHELL", "curl -f http://localhost/ || exit 1"])
        #expect(h.interval == 300_000_000_000 && h.timeout == 3_000_000_000 && h.startPeriod == 30_000_000_000)
        #expect(h.startInterval == 500_000_000 && h.retries == 3)
        guard case .healthcheck(let e) = try instruction(#"HEALTHCHECK cmd ["/bin/check", "-q"]"#) else { return }
        #expect(e.configTest == ["CMD", "/bin/check", "-q"] && e.interval == nil && e.retries == nil)
        guard case .healthcheck(let n) = try instruction("HEALTHCHECK NONE") else { return }
        #expect(n.test == .none && n.configTest == ["NONE"])
        guard case .healthcheck(let d) = try instruction("HEALTHCHECK --interval=1m30s --timeout=0 CMD true") else { return }
        #expect(d.interval == 90_000_000_000 && d.timeout == nil)

        #expect(parseError("FROM a\nHEALTHCHECK NONE x\n")?.message == "HEALTHCHECK NONE takes no arguments")
        #expect(parseError("FROM a\nHEALTHCHECK CMD\n")?.message == "Missing command after HEALTHCHECK CMD")
        #expect(parseError("FROM a\nHEALTHCHECK RUN x\n")?.message == "Unknown type \"RUN\" in HEALTHCHECK (try CMD)")
        #expect(parseError("FROM a\nHEALTHCHECK\n")?.message == "HEALTHCHECK requires at least one argument")
        #expect(parseError("FROM a\nHEALTHCHECK --interval=5 CMD x\n")?.message == "time: invalid duration \"5\"")
        #expect(parseError("FROM a\nHEALTHCHECK --interval=10us CMD x\n")?.message == "Interval \"interval\" cannot be less than 1ms")
        #expect(parseError("FROM a\nHEALTHCHECK --retries=-1 CMD x\n")?.message == "--retries cannot be negative (-1)")
        #expect(parseError("FROM a\nHEALTHCHECK --retries=x CMD x\n") != nil)
        #expect(parseError("FROM a\nHEALTHCHECK --bogus=1 CMD x\n")
                == .unknownFlag(SourceLocation(file: "Dockerfile", line: 2), instruction: "HEALTHCHECK", flag: "--bogus"))
    }

    @Test("ONBUILD wraps any instruction except FROM, MAINTAINER and ONBUILD")
    func onbuild() throws {
        guard case .onbuild(let o) = try instruction("ONBUILD ADD . /app/src") else { Issue.record("kind"); return }
        #expect(o.expression == "ADD . /app/src")
        #expect(o.trigger.name == "ADD")
        guard case .onbuild(let r) = try instruction("onbuild   RUN --mount=type=cache,target=/c /usr/local/bin/python-build --dir /app/src")
        else { return }
        #expect(r.expression == "RUN --mount=type=cache,target=/c /usr/local/bin/python-build --dir /app/src")
        guard case .run(let run) = r.trigger.kind else { Issue.record("trigger"); return }
        #expect(run.mounts.count == 1)
        #expect(parseError("FROM a\nONBUILD ONBUILD RUN x\n")?.message == "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        #expect(parseError("FROM a\nONBUILD FROM b\n")?.message == "FROM isn't allowed as an ONBUILD trigger")
        #expect(parseError("FROM a\nONBUILD MAINTAINER me\n")?.message == "MAINTAINER isn't allowed as an ONBUILD trigger")
        #expect(parseError("FROM a\nONBUILD\n")?.message == "ONBUILD requires at least one argument")
        #expect(parseError("FROM a\nONBUILD RUNN x\n")?.description == "Dockerfile:2: unknown instruction: RUNN")
    }

    @Test("COPY: sources, destination, --from --chown --chmod --link --parents --exclude, JSON form")
    func copy() throws {
        let c = try Self.copy("COPY --from=build --chown=55:mygroup --chmod=644 --link --parents --exclude=*.txt --exclude=*.md a b /dest/")
        #expect(c.sources == ["a", "b"] && c.destination == "/dest/")
        #expect(c.from == "build" && c.chown == "55:mygroup" && c.chmod == "644" && c.link && c.parents)
        #expect(c.excludes == ["*.txt", "*.md"])
        let j = try Self.copy(#"COPY ["my file.txt", "/dest dir/"]"#)
        #expect(j.sources == ["my file.txt"] && j.destination == "/dest dir/" && !j.link && j.from == nil)
        #expect(try Self.copy("COPY --link=false a /b").link == false)
        #expect(try Self.copy("COPY --parents=true ./x/./y/*.txt /parents/").parents)
        #expect(parseError("FROM a\nCOPY onlyone\n")?.message
                == "COPY requires at least two arguments, but only one was provided. Destination could not be determined")
        #expect(parseError("FROM a\nCOPY --checksum=sha256:x a b\n")
                == .unknownFlag(SourceLocation(file: "Dockerfile", line: 2), instruction: "COPY", flag: "--checksum"))
        #expect(parseError("FROM a\nCOPY --link=maybe a b\n")?.message == "expecting boolean value for flag --link, not: maybe")
        #expect(parseError("FROM a\nCOPY --from a b\n")?.message == "missing a value on flag: --from")
        #expect(parseError("FROM a\nCOPY -x a b\n") == nil)  // not a flag: a source named -x
    }

    @Test("ADD: URLs, git, --checksum, --keep-git-dir, --unpack, --chown, --chmod, --link, --exclude")
    func add() throws {
        let a = try Self.add("ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://mirrors.edge.kernel.org/pub/linux/kernel/Historic/linux-0.01.tar.gz /")
        #expect(a.checksum?.hasPrefix("sha256:") == true && a.sources.count == 1 && a.destination == "/")
        let g = try Self.add("ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /buildkit")
        #expect(g.keepGitDir == true && g.unpack == nil)
        #expect(try Self.add("ADD --unpack=false my-archive.tar.gz .").unpack == false)
        #expect(try Self.add("ADD --chown=myuser:mygroup --chmod=655 --link --exclude=x files* /somedir/").chmod == "655")
        #expect(parseError("FROM a\nADD --from=x a b\n")
                == .unknownFlag(SourceLocation(file: "Dockerfile", line: 2), instruction: "ADD", flag: "--from"))
        #expect(parseError("FROM a\nADD --parents a b\n") != nil)
    }
}
