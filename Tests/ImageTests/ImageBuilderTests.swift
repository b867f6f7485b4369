import Builder
import CaissonSys
import Foundation
import ImageSpec
import Images
import Testing

/// Whole Dockerfiles built into images: stages, variables, config instructions, COPY
/// (from the context and from a stage), RUN, and the cache across builds.
// The limit counts from when the suite is scheduled: in the whole suite on two cores these
// async builds wait minutes for a thread, so it is generous (it is there to catch hangs).
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ImageBuilderTests {
    static func builder(_ service: ImageService, context: String, output: String, configure: (inout BuildOptions) -> Void = { _ in })
        throws -> ImageBuilder {
        var options = BuildOptions(context: context, runtime: CaissonCLI.runtimeBinary, runtimeRoot: try Scratch.directory("build-runtime"))
        configure(&options)
        let fd = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        return ImageBuilder(images: service, options: options, output: fd) { (name) throws(BuildError) in
            do { return try service.resolve(name) } catch let error as ImageError { throw .image(error) } catch { throw .invalid("\(error)") }
        }
    }

    /// A store holding the test busybox image as `build/busybox:1`, and its root to remove.
    static func busyboxStore() throws -> (ImageService, String) {
        let (service, base, root) = try RunStepTests.base()
        _ = try service.writeImage(layers: base.layers, config: base.config, history: base.history, platform: base.platform,
                                   names: ["build/busybox:1"])
        return (service, root)
    }

    @Test func aMultiStageDockerfileBuildsAndRebuildsFromCache() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-context")
        try Shell.run("/bin/sh", ["-ec", """
            cd \(context); mkdir -p src; echo one > src/a.txt; echo two > src/b.txt; echo skip > notes.md
            echo '*.md' > .dockerignore
            cat > Dockerfile <<'EOF'
            FROM build/busybox:1 AS base
            ARG GREETING=hello
            ENV APP=/app
            WORKDIR $APP
            COPY src/ ./src/
            RUN echo "$GREETING from $APP" > greeting && cat src/*.txt >> greeting
            LABEL org.example.stage=base
            EXPOSE 8080
            CMD ["cat", "/app/greeting"]

            FROM build/busybox:1
            COPY --from=base /app/greeting /greeting
            ENTRYPOINT ["cat"]
            CMD ["/greeting"]
            EOF
            """])
        let log = root + "/build.log"
        let image = try await Self.builder(service, context: context, output: log) { $0.tags = ["build/app:1"] }.build()
        #expect(try service.resolve("build/app:1").id == image.id)
        let config = try service.config(of: image)
        #expect(config.config?.Entrypoint == ["cat"])
        #expect(config.config?.Cmd == ["/greeting"])
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("STEP 1/13: FROM build/busybox:1 AS base"))
        #expect(text.contains("STEP 6/13: RUN echo"))

        let target = try Scratch.directory("build-check")
        try service.mountRootfs(image, id: "app-check", target: target)
        #expect(try String(contentsOfFile: target + "/greeting", encoding: .utf8) == "hello from /app\none\ntwo\n")
        try service.unmountRootfs(id: "app-check", target: target)

        // The base stage as the target, with a build argument: its own config.
        let staged = try await Self.builder(service, context: context, output: log) {
            $0.target = "base"
            $0.buildArguments = ["GREETING": "hi"]
        }.build()
        let baseConfig = try service.config(of: staged)
        #expect(baseConfig.config?.WorkingDir == "/app")
        #expect(baseConfig.config?.Labels?["org.example.stage"] == "base")
        #expect(baseConfig.config?.ExposedPorts?.keys.sorted() == ["8080/tcp"])
        #expect(baseConfig.config?.Env?.contains("APP=/app") == true)

        // Nothing changed: every step from cache, the same image.
        try "".write(toFile: log, atomically: true, encoding: .utf8)
        let again = try await Self.builder(service, context: context, output: log).build()
        #expect(again.id == image.id)
        let cachedText = try String(contentsOfFile: log, encoding: .utf8)
        #expect(cachedText.components(separatedBy: "--> Using cache").count - 1 == 4)

        // One source file changed: COPY and RUN again, and what follows them.
        try "three\n".write(toFile: context + "/src/b.txt", atomically: true, encoding: .utf8)
        try "".write(toFile: log, atomically: true, encoding: .utf8)
        let changed = try await Self.builder(service, context: context, output: log).build()
        let changedText = try String(contentsOfFile: log, encoding: .utf8)
        #expect(changedText.components(separatedBy: "--> Using cache").count - 1 == 1)  // only WORKDIR
        try service.mountRootfs(changed, id: "changed-check", target: target)
        #expect(try String(contentsOfFile: target + "/greeting", encoding: .utf8) == "hello from /app\none\nthree\n")
        try service.unmountRootfs(id: "changed-check", target: target)
    }

    @Test func badDockerfilesNameTheirLine() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-bad")
        for (dockerfile, target, expected) in [
            ("FROM build/busybox:1\nRUNN true\n", nil, "Dockerfile:2"),
            ("FROM build/busybox:1\nCOPY\n", nil, "Dockerfile:2"),
            ("FROM build/busybox:1\nCOPY missing /x\n", nil, "file not found in build context"),
            ("FROM build/busybox:1\nEXPOSE 80/xyz\n", nil, "Dockerfile:2: EXPOSE: invalid port \"80/xyz\": unknown protocol xyz"),
            ("FROM build/busybox:1\nEXPOSE 90-80\n", nil, "invalid port \"90-80\""),
            ("FROM build/busybox:1\nRUN echo partial; exit 4\n", nil, "exit status 4"),
            ("FROM build/busybox:1\nRUN echo the-last-line-printed; exit 4\n", nil, "the-last-line-printed"),
            ("FROM build/busybox:1 AS one\nCOPY --from=one /x /y\n", nil, "one"),
            ("FROM build/busybox:1 AS one\nRUN true\n", "nosuch", "nosuch"),
        ] as [(String, String?, String)] {
            try dockerfile.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
            do {
                _ = try await Self.builder(service, context: context, output: "/dev/null") { $0.target = target }.build()
                Issue.record("\(dockerfile) should fail")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: service.root + "/build")) ?? [] == [])
        #expect((try? FileManager.default.contentsOfDirectory(atPath: service.root + "/rootfs")) ?? [] == [])
        // Nothing half-made among the images.
        #expect(try service.list().count == 1)
    }
}

extension ImageBuilderTests {
    @Test func heredocsAndOnbuildTriggers() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-heredoc")
        try #"""
        FROM build/busybox:1
        ARG NAME=world
        RUN <<EOF
        echo "hello $NAME" > /script-out
        EOF
        RUN cat > /cat-out <<'EOT'
        literal $NAME
        EOT
        RUN <<SCRIPT
        #!/bin/sh -e
        echo "$0 ran by its own interpreter" > /shebang-out
        SCRIPT
        COPY <<EOF /etc/greeting
        hi ${NAME}
        EOF
        ONBUILD RUN echo triggered > /triggered
        """#.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let parent = try await Self.builder(service, context: context, output: "/dev/null") { $0.tags = ["build/parent:1"] }.build()
        #expect(try service.config(of: parent).config?.OnBuild == ["RUN echo triggered > /triggered"])
        let target = try Scratch.directory("heredoc-check")
        try service.mountRootfs(parent, id: "heredoc-check", target: target)
        #expect(try String(contentsOfFile: target + "/script-out", encoding: .utf8) == "hello world\n")
        #expect(try String(contentsOfFile: target + "/cat-out", encoding: .utf8) == "literal $NAME\n")
        // A script with #! is written to /dev/pipes/NAME and run, as BuildKit does; it leaves nothing in the image.
        #expect(try String(contentsOfFile: target + "/shebang-out", encoding: .utf8) == "/dev/pipes/SCRIPT ran by its own interpreter\n")
        #expect(!FileManager.default.fileExists(atPath: target + "/dev/pipes"))
        #expect(try String(contentsOfFile: target + "/etc/greeting", encoding: .utf8) == "hi world\n")
        #expect(!FileManager.default.fileExists(atPath: target + "/triggered"))
        try service.unmountRootfs(id: "heredoc-check", target: target)
        // The script's body is part of its cache key.
        let dockerfile = try String(contentsOfFile: context + "/Dockerfile", encoding: .utf8)
        try dockerfile.replacingOccurrences(of: "ran by its own", with: "ran again by its own")
            .write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let changed = try await Self.builder(service, context: context, output: "/dev/null").build()
        #expect(try Self.readImageFile(service, changed, "/shebang-out") == "/dev/pipes/SCRIPT ran again by its own interpreter\n")

        // A build FROM the parent runs its trigger first, and does not pass it on.
        try "FROM build/parent:1\nRUN cat /triggered\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let child = try await Self.builder(service, context: context, output: "/dev/null").build()
        #expect(try service.config(of: child).config?.OnBuild == nil)
        try service.mountRootfs(child, id: "onbuild-check", target: target)
        #expect(try String(contentsOfFile: target + "/triggered", encoding: .utf8) == "triggered\n")
        try service.unmountRootfs(id: "onbuild-check", target: target)
    }
}

extension ImageBuilderTests {
    @Test func addUnpacksLocalArchivesAndCopiesOtherFiles() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-add")
        try Shell.run("/bin/sh", ["-ec", """
            cd \(context); mkdir -p tree/x; echo inside > tree/x/y; tar -C tree -czf files.tar.gz .; echo plain > plain.txt
            printf 'FROM build/busybox:1\\nADD files.tar.gz /opt/\\nADD plain.txt /opt/plain.txt\\n' > Dockerfile
            """])
        let image = try await Self.builder(service, context: context, output: "/dev/null").build()
        let target = try Scratch.directory("add-check")
        try service.mountRootfs(image, id: "add-check", target: target)
        defer { try? service.unmountRootfs(id: "add-check", target: target) }
        #expect(try String(contentsOfFile: target + "/opt/x/y", encoding: .utf8) == "inside\n")
        #expect(try String(contentsOfFile: target + "/opt/plain.txt", encoding: .utf8) == "plain\n")
        #expect(!FileManager.default.fileExists(atPath: target + "/opt/files.tar.gz"))
    }
}

extension ImageBuilderTests {
    @Test func runMountsCacheTmpfsAndOptionalSecrets() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-mounts")
        try """
        FROM build/busybox:1
        RUN --mount=type=cache,target=/cache,sharing=locked echo run >> /cache/log && cat /cache/log > /count
        RUN --mount=type=tmpfs,target=/scratch echo x > /scratch/f && ls /scratch > /tmpfs-list
        RUN --mount=type=secret,id=token test ! -e /run/secrets/token && echo absent > /secret-state
        """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        var counts: [String] = []
        for _ in 0..<2 {
            let image = try await Self.builder(service, context: context, output: "/dev/null") { $0.noCache = true }.build()
            let target = try Scratch.directory("mounts-check")
            try service.mountRootfs(image, id: "mounts-check", target: target)
            counts.append(try String(contentsOfFile: target + "/count", encoding: .utf8))
            #expect(try String(contentsOfFile: target + "/tmpfs-list", encoding: .utf8) == "f\n")
            #expect(try String(contentsOfFile: target + "/secret-state", encoding: .utf8) == "absent\n")
            // The mounts' own paths are not in the image.
            #expect(!FileManager.default.fileExists(atPath: target + "/cache"))
            #expect(!FileManager.default.fileExists(atPath: target + "/scratch"))
            try service.unmountRootfs(id: "mounts-check", target: target)
        }
        // The cache directory persists across builds.
        #expect(counts == ["run\n", "run\nrun\n"])

        try "FROM build/busybox:1\nRUN --mount=type=secret,id=token,required cat /run/secrets/token\n"
            .write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        do {
            _ = try await Self.builder(service, context: context, output: "/dev/null").build()
            Issue.record("a required secret that is not provided must fail")
        } catch {
            #expect("\(error)".contains("required"))
        }
    }
}

extension ImageBuilderTests {
    /// `NAME.dockerignore` beside the Dockerfile NAME wins over the context's `.dockerignore`.
    @Test func aDockerfilesOwnIgnoreFileComesFirst() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-ignore")
        try Shell.run("/bin/sh", ["-ec", """
            cd \(context); mkdir -p src; echo a > src/a.txt; echo b > src/b.txt
            echo 'src/a.txt' > .dockerignore
            printf 'FROM scratch\\nCOPY src /src\\n' > Dockerfile; cp Dockerfile other.Dockerfile
            echo 'src/b.txt' > other.Dockerfile.dockerignore
            """])
        let plain = try await Self.builder(service, context: context, output: "/dev/null").build()
        #expect(try Self.readImageFile(service, plain, "/src/a.txt") == nil)
        #expect(try Self.readImageFile(service, plain, "/src/b.txt") == "b\n")
        let other = try await Self.builder(service, context: context, output: "/dev/null") { $0.dockerfile = context + "/other.Dockerfile" }.build()
        #expect(try Self.readImageFile(service, other, "/src/a.txt") == "a\n")
        #expect(try Self.readImageFile(service, other, "/src/b.txt") == nil)
    }
}
