@testable import Dockerfile
import Testing

/// Stage graphs and per-stage variable scopes.
@Suite struct StageTests {
    static let multiStage = """
        ARG GO_VERSION=1.22
        FROM golang:${GO_VERSION} AS base
        WORKDIR /src

        FROM base AS deps
        RUN --mount=type=cache,target=/go/pkg/mod go mod download

        FROM base AS tools
        RUN go install golang.org/x/tools/cmd/stringer@latest

        FROM deps AS build
        COPY --from=tools /go/bin/stringer /usr/local/bin/
        RUN --mount=type=bind,from=tools,source=/go/bin,target=/tools true
        COPY --from=nginx:latest /etc/nginx/nginx.conf /nginx.conf

        FROM scratch AS final
        COPY --from=build /out/app /app
        COPY --from=0 /etc/passwd /etc/passwd

        FROM alpine AS unrelated
        RUN true
        """

    @Test("the stages a target needs, dependencies first; images are not stages")
    func stagesNeeded() throws {
        let doc = try parse(Self.multiStage)
        #expect(doc.metaArgDefinitions == [ArgDefinition(name: "GO_VERSION", defaultValue: "1.22")])
        let global = try StageEnvironment.globalScope(metaArgs: doc.metaArgDefinitions, buildArguments: [:],
                                                      platforms: BuildPlatforms(build: "linux/amd64"))
        let graph = try StageGraph(doc, global: global)
        #expect(graph.baseImages[0] == "golang:1.22")
        #expect(graph.baseStage[1] == 0 && graph.baseStage[3] == 1)
        #expect(graph.images[3] == ["nginx:latest"])
        #expect(try graph.stagesNeeded(for: "final") == [0, 1, 2, 3, 4])
        #expect(try graph.stagesNeeded(for: "BUILD") == [0, 1, 2, 3])
        #expect(try graph.stagesNeeded(for: "tools") == [0, 2])
        #expect(try graph.stagesNeeded(for: nil) == [5])
        #expect(throws: DockerfileError.unknownStage("nope", referencedAt: nil)) { try graph.stagesNeeded(for: "nope") }
    }

    @Test("a stage that refers to itself")
    func selfReference() throws {
        let doc = try parse("FROM alpine AS a\nCOPY --from=a /x /y\n")
        #expect(throws: DockerfileError.stageRefersToItself(SourceLocation(file: "Dockerfile", line: 2), "a")) { try StageGraph(doc) }
        let byIndex = try parse("FROM alpine\nCOPY --from=0 /x /y\n")
        #expect(throws: DockerfileError.stageRefersToItself(SourceLocation(file: "Dockerfile", line: 2), "0")) { try StageGraph(byIndex) }
        let byMount = try parse("FROM alpine AS a\nRUN --mount=from=A,target=/x true\n")
        #expect(throws: DockerfileError.self) { try StageGraph(byMount) }
        // A mount's `from=0` is an image name, not an index.
        #expect(try StageGraph(try parse("FROM alpine\nRUN --mount=from=0,target=/x true\n")).images[0] == ["0"])
    }

    @Test("cycles between stages through COPY --from")
    func cycles() throws {
        let doc = try parse("FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nCOPY --from=a /y /y\n")
        let graph = try StageGraph(doc)
        #expect(throws: DockerfileError.stageCycle(["a", "b"])) { try graph.stagesNeeded(for: "a") }
        #expect(DockerfileError.stageCycle(["a", "b"]).description == "circular dependency between stages: a -> b -> a")
    }

    @Test("a stage index out of range, and variables in --from, are errors")
    func badReferences() throws {
        #expect(throws: DockerfileError.unknownStage("3", referencedAt: SourceLocation(file: "Dockerfile", line: 3))) {
            try StageGraph(try parse("FROM a\nFROM b\nCOPY --from=3 /x /x\n"))
        }
        #expect(throws: DockerfileError.self) { try StageGraph(try parse("FROM a\nCOPY --from=$X /x /x\n")) }
    }

    @Test("FROM names only earlier stages; a later name is an image")
    func fromEarlierOnly() throws {
        let graph = try StageGraph(try parse("FROM later AS first\nFROM alpine AS later\n"))
        #expect(graph.baseImages[0] == "later")
        #expect(try graph.stagesNeeded(for: "first") == [0])
        // The base name is matched exactly: stage names are lower-cased, `FROM Later` is an image.
        let exact = try StageGraph(try parse("FROM alpine AS later\nFROM Later\nFROM later\n"))
        #expect(exact.baseImages[1] == "Later" && exact.baseStage[2] == 0)
    }

    @Test("ARG before FROM is seen by FROM only; a stage sees it after declaring it again")
    func argScoping() throws {
        let doc = try parse("""
            ARG VERSION=latest
            FROM busybox:$VERSION
            ARG VERSION
            RUN echo $VERSION > image_version
            """)
        let global = try StageEnvironment.globalScope(metaArgs: doc.metaArgDefinitions, buildArguments: [:],
                                                      platforms: BuildPlatforms(build: "linux/amd64"))
        #expect(try Instruction.expandedFrom(doc.stages[0].from, global: global).image == "busybox:latest")
        var env = StageEnvironment(global: global)
        #expect(env.value(of: "VERSION") == nil)
        try env.apply(doc.stages[0].instructions[0])
        #expect(env.value(of: "VERSION") == "latest")
        #expect(env.imageEnvironment.strings.isEmpty)  // ARGs are not in the image's Env
    }

    @Test("build args override defaults; ENV overrides ARG; defaults see earlier variables")
    func argAndEnv() throws {
        let doc = try parse("""
            FROM ubuntu
            ARG CONT_IMG_VER
            ENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}
            RUN echo $CONT_IMG_VER
            ARG user
            ARG home=/home/${user:-nobody}
            ENV PATH=$home/bin:$PATH
            """)
        func run(_ buildArgs: [String: String]) throws -> StageEnvironment {
            var env = StageEnvironment(global: VariableList(), imageEnvironment: ["PATH=/usr/bin:/bin"], buildArguments: buildArgs)
            for i in doc.stages[0].instructions { try env.apply(i) }
            return env
        }
        let plain = try run([:])
        #expect(plain.value(of: "CONT_IMG_VER") == "v1.0.0")
        #expect(plain.value(of: "home") == "/home/nobody")
        #expect(plain.imageEnvironment.strings == ["PATH=/home/nobody/bin:/usr/bin:/bin", "CONT_IMG_VER=v1.0.0"])
        let given = try run(["CONT_IMG_VER": "v2.0.1", "user": "ann"])
        #expect(given.value(of: "CONT_IMG_VER") == "v2.0.1")
        #expect(given.value(of: "home") == "/home/ann")
        // An ENV after an ARG of the same name wins.
        var env = StageEnvironment(global: VariableList(), buildArguments: ["A": "from-arg"])
        for i in try instructions("ARG A\nENV A=from-env\n") { try env.apply(i) }
        #expect(env.value(of: "A") == "from-env")
    }

    @Test("the predefined platform ARGs are global; a stage declares them to use them")
    func platformArgs() throws {
        let platforms = BuildPlatforms(build: "linux/amd64", target: "linux/arm64/v8")
        let doc = try parse("""
            FROM --platform=$BUILDPLATFORM golang:alpine AS build
            ARG TARGETPLATFORM
            ARG BUILDPLATFORM
            ARG TARGETARCH TARGETVARIANT
            RUN echo "I am running on $BUILDPLATFORM, building for $TARGETPLATFORM" > /log
            """)
        let global = try StageEnvironment.globalScope(metaArgs: [], buildArguments: [:], platforms: platforms)
        #expect(global.value(of: "TARGETOS") == "linux" && global.value(of: "TARGETVARIANT") == "v8")
        #expect(global.value(of: "BUILDARCH") == "amd64" && global.value(of: "BUILDVARIANT") == "")
        #expect(try Instruction.expandedFrom(doc.stages[0].from, global: global).platform == "linux/amd64")
        var env = StageEnvironment(global: global)
        #expect(env.value(of: "TARGETARCH") == nil)
        for i in doc.stages[0].instructions { try env.apply(i) }
        #expect(env.value(of: "TARGETPLATFORM") == "linux/arm64/v8")
        #expect(env.value(of: "TARGETARCH") == "arm64")
        #expect(env.value(of: "TARGETOS") == nil)
    }

    @Test("substitution errors name the line; a blank base image is an error")
    func substitutionErrors() throws {
        let doc = try parse("FROM a\nWORKDIR ${DIR:?set DIR}\n")
        let env = StageEnvironment(global: VariableList())
        #expect(throws: DockerfileError.self) { try doc.stages[0].instructions[0].expanded(env) }
        do {
            _ = try doc.stages[0].instructions[0].expanded(env)
        } catch {
            #expect(error.description.hasPrefix("Dockerfile:2: "))
            #expect(error.description.hasSuffix("DIR: set DIR"))
        }
        let blank = try parse("ARG BASE\nFROM $BASE\n")
        #expect(throws: DockerfileError.self) { try StageGraph(blank) }
    }

    @Test("which instructions are substituted: not CMD, ENTRYPOINT, RUN's command, COPY --from, ONBUILD")
    func whichInstructions() throws {
        let env = ["X": "1", "D": "/d", "U": "app"]
        let list = try instructions("""
            CMD echo $X
            ENTRYPOINT ["echo", "$X"]
            RUN echo $X
            ONBUILD COPY $X /
            COPY --chown=$U --from=stage $X $D/
            USER $U:$U
            STOPSIGNAL SIG$X
            VOLUME $D /v$X
            LABEL l$X="v $X"
            HEALTHCHECK CMD echo $X
            MAINTAINER $X
            """)
        let expanded = try list.map { try $0.expanded(env).kind }
        #expect(expanded[0] == .cmd(.shell("echo $X")))
        #expect(expanded[1] == .entrypoint(.exec(["echo", "$X"])))
        guard case .run(let run) = expanded[2], case .onbuild(let o) = expanded[3], case .copy(let copy) = expanded[4] else { return }
        #expect(run.command == .shell("echo $X"))
        #expect(o.expression == "COPY $X /")
        #expect(copy.chown == "app" && copy.from == "stage" && copy.sources == ["1"] && copy.destination == "/d/")
        #expect(expanded[5] == .user("app:app"))
        #expect(expanded[6] == .stopSignal("SIG1"))
        #expect(expanded[7] == .volume(["/d", "/v1"]))
        #expect(expanded[8] == .label([KeyValue(key: "l1", value: "v 1")]))
        guard case .healthcheck(let h) = expanded[9] else { return }
        #expect(h.configTest == ["CMD-SHELL", "echo $X"])
        #expect(expanded[10] == .maintainer("$X"))
    }

    @Test("COPY heredoc bodies are substituted unless the delimiter is quoted; quotes stay in the body")
    func inlineSubstitution() throws {
        let list = try instructions("COPY <<EOF /a\n\"$X\" '$X'\nEOF\nCOPY <<'EOF' /b\n$X\nEOF\n")
        guard case .copy(let a) = try list[0].expanded(["X": "1"]).kind, case .copy(let b) = try list[1].expanded(["X": "1"]).kind else { return }
        #expect(a.inlineSources[0].heredoc.content == "\"1\" '1'\n")
        #expect(b.inlineSources[0].heredoc.content == "$X\n")
    }
}
