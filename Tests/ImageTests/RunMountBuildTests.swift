import Builder
import CaissonSys
import Foundation
import ImageSpec
import Images
import Testing

/// `RUN --mount=type=secret` with `--secret`, and `type=bind` of the context and of other
/// stages, in real builds: what the step sees, what the image keeps (never a secret, never
/// a mount point) and what the cache keys on.
extension ImageBuilderTests {
    static func readImageFile(_ service: ImageService, _ image: ImageRecord, _ path: String) throws -> String? {
        let target = try Scratch.directory("mount-read")
        try service.mountRootfs(image, id: "mount-read", target: target)
        defer { try? service.unmountRootfs(id: "mount-read", target: target) }
        return try? String(contentsOfFile: target + path, encoding: .utf8)
    }

    @Test func secretsAreReadableInTheirStepAndInNoLayer() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-secrets")
        let secretFile = try Scratch.directory("secret-source") + "/token"
        try "s3cr3t-value".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try """
        FROM build/busybox:1
        RUN --mount=type=secret,id=token sha256sum /run/secrets/token | cut -c1-64 > /sum && stat -c '%a %u' /run/secrets/token > /mode
        RUN --mount=type=secret,id=token,target=/etc/app/key,mode=0440,uid=5,required stat -c '%a %u' /etc/app/key > /mode2
        RUN --mount=type=secret,id=token,env=TOKEN echo -n "$TOKEN" | sha256sum | cut -c1-64 > /env && test ! -e /run/secrets/token
        """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let image = try await Self.builder(service, context: context, output: "/dev/null") {
            $0.secrets["token"] = BuildSecret(id: "token", value: Array("s3cr3t-value".utf8))
        }.build()
        #expect(try Self.readImageFile(service, image, "/mode") == "400 0\n")
        #expect(try Self.readImageFile(service, image, "/mode2") == "440 5\n")
        let sum = Digest.sha256(of: Array("s3cr3t-value".utf8)).encoded + "\n"
        #expect(try Self.readImageFile(service, image, "/sum") == sum)
        #expect(try Self.readImageFile(service, image, "/env") == sum)
        #expect(try Self.readImageFile(service, image, "/run/secrets/token") == nil)
        #expect(try Self.readImageFile(service, image, "/etc/app/key") == nil)
        // No layer holds the secret, nor does the config or history.
        let config = try service.config(of: image)
        for diffID in config.rootfs.diff_ids {
            let found = try Shell.run("/bin/sh", ["-c", "grep -rl s3cr3t-value \(service.snapshots.layerPath(diffID)) || true"]).stdout
            #expect(found.isEmpty, "layer \(diffID) holds the secret: \(found)")
        }
        let configText = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        #expect(!configText.contains("s3cr3t"))

        // The CLI's forms, and their mistakes named.
        let fromFile = try BuildSecret.parse("id=token,src=\(secretFile)", environment: [:])
        #expect(fromFile == BuildSecret(id: "token", value: Array("s3cr3t-value".utf8)))
        #expect(try BuildSecret.parse("id=k,env=VAR", environment: ["VAR": "v"]).value == Array("v".utf8))
        #expect(try BuildSecret.parse("id=VAR", environment: ["VAR": "w"]).value == Array("w".utf8))
        #expect(try BuildSecret.parse("type=env,id=k,src=VAR", environment: ["VAR": "x"]).value == Array("x".utf8))
        for (bad, words) in [("src=/x", "id= is required"), ("id=a,src=/no/such/file", "/no/such/file"),
                             ("id=a,env=UNSET_VARIABLE", "UNSET_VARIABLE"), ("id=a,colour=red", "colour"), ("id=a,type=ssh", "ssh")] {
            #expect(throws: BuildError.self) { _ = try BuildSecret.parse(bad, environment: [:]) }
            do { _ = try BuildSecret.parse(bad, environment: [:]) } catch { #expect("\(error)".contains(words), "\(bad): \(error)") }
        }
    }

    @Test func bindMountsOfTheContextAndOfStages() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-binds")
        try Shell.run("/bin/sh", ["-ec", """
            cd \(context); mkdir -p src; echo one > src/a.txt; echo notes > src/notes.md
            echo 'src/*.md' > .dockerignore
            """])
        try """
        FROM build/busybox:1 AS tools
        RUN mkdir -p /opt/tool && echo tool-v1 > /opt/tool/version && echo stage-etc > /etc/marker && ln -s /etc /opt/tool/etc-link
        FROM build/busybox:1
        RUN --mount=type=bind,source=src,target=/src cat /src/a.txt > /from-context && ls /src > /listing
        RUN --mount=type=bind,from=tools,source=/opt/tool,target=/tool cat /tool/version > /from-stage
        RUN --mount=type=bind,from=tools,source=/opt/tool/etc-link/marker,target=/marker cat /marker > /through-link
        RUN --mount=type=bind,target=/ctx,rw echo changed > /ctx/src/a.txt && cat /ctx/src/a.txt > /rw-seen
        RUN --mount=type=bind,source=src,target=/ro touch /ro/new 2>/dev/null || echo refused > /ro-state
        """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let image = try await Self.builder(service, context: context, output: "/dev/null").build()
        #expect(try Self.readImageFile(service, image, "/from-context") == "one\n")
        #expect(try Self.readImageFile(service, image, "/listing") == "a.txt\n")  // .dockerignore applies
        #expect(try Self.readImageFile(service, image, "/from-stage") == "tool-v1\n")
        #expect(try Self.readImageFile(service, image, "/through-link") == "stage-etc\n")  // the stage's /etc, not the host's
        #expect(try Self.readImageFile(service, image, "/rw-seen") == "changed\n")
        #expect(try String(contentsOfFile: context + "/src/a.txt", encoding: .utf8) == "one\n")  // rw writes are thrown away
        #expect(try Self.readImageFile(service, image, "/ro-state") == "refused\n")
        for point in ["/src", "/tool", "/marker", "/ctx", "/ro"] {
            let target = try Scratch.directory("points")
            try service.mountRootfs(image, id: "points", target: target)
            #expect(!FileManager.default.fileExists(atPath: target + point), "\(point) left in the image")
            try service.unmountRootfs(id: "points", target: target)
        }

        // The cache keys on what the mounts read: an ignored file changes nothing, a read one reruns its step.
        try "other notes".write(toFile: context + "/src/notes.md", atomically: true, encoding: .utf8)
        let same = try await Self.builder(service, context: context, output: "/dev/null").build()
        #expect(same.id == image.id)
        try "two".write(toFile: context + "/src/a.txt", atomically: true, encoding: .utf8)
        let changed = try await Self.builder(service, context: context, output: "/dev/null").build()
        #expect(changed.id != image.id)
        #expect(try Self.readImageFile(service, changed, "/from-context") == "two")

        // A missing source is named, and the failed build leaves no mount behind.
        try "FROM build/busybox:1\nRUN --mount=type=bind,source=nowhere,target=/n true\n"
            .write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        do {
            _ = try await Self.builder(service, context: context, output: "/dev/null").build()
            Issue.record("a missing bind source must fail")
        } catch {
            #expect("\(error)".contains("bind mount source nowhere not found"), "\(error)")
        }
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(service.root + "/build/"))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: service.root + "/build")) ?? []
        #expect(left.isEmpty, "left in the build area: \(left)")
    }

    @Test func copyNeverFollowsALinkOutOfItsRoot() async throws {
        let (service, _, root) = try RunStepTests.base()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-links")
        try Shell.run("/bin/sh", ["-ec", "cd \(context); mkdir -p tree/etc; echo context-etc > tree/etc/hostname; ln -s /etc hostlink; ln -s /etc tree/abs; ln -s ../../.. tree/up"])
        // A stage whose links point at /etc: COPY --from reads the stage's /etc, never the host's.
        try """
        FROM scratch AS stage
        COPY tree /
        FROM scratch
        COPY --from=stage /abs/hostname /via-absolute
        COPY --from=stage /up/etc/hostname /via-dotdot
        COPY --from=stage /abs /whole-link
        """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let image = try await Self.builder(service, context: context, output: "/dev/null").build()
        #expect(try Self.readImageFile(service, image, "/via-absolute") == "context-etc\n")
        #expect(try Self.readImageFile(service, image, "/via-dotdot") == "context-etc\n")
        #expect(try Self.readImageFile(service, image, "/whole-link/hostname") == "context-etc\n")
        #expect(try Self.readImageFile(service, image, "/whole-link/passwd") == nil)
        // In the context too: a link to the host's /etc leads to the context's own /etc (absent here).
        for line in ["COPY hostlink/hostname /h", "COPY hostlink /h/", "RUN --mount=type=bind,source=hostlink/passwd,target=/p true"] {
            try "FROM scratch\n\(line)\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
            do {
                let built = try await Self.builder(service, context: context, output: "/dev/null").build()
                Issue.record("\(line) read the host: \(try Self.readImageFile(service, built, "/h/hostname") ?? "")")
            } catch {
                #expect("\(error)".contains("not found") || "\(error)".contains("leads nowhere"), "\(line): \(error)")
            }
        }
    }

    @Test func sshAgentSocketsAreForwardedAsBuildKitDoes() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-ssh")
        let sockets = try Scratch.directory("agents")
        for name in ["default.sock", "deploy.sock"] {
            try Shell.run("/usr/bin/python3", ["-c", "import socket; socket.socket(socket.AF_UNIX).bind('\(sockets)/\(name)')"])
        }
        try """
        FROM build/busybox:1
        RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /agent
        RUN --mount=type=ssh,id=deploy,target=/tmp/agent.sock test -S /tmp/agent.sock && echo ok > /deploy
        RUN --mount=type=ssh,id=absent test -z "$SSH_AUTH_SOCK" && echo skipped > /skipped
        """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let image = try await Self.builder(service, context: context, output: "/dev/null") {
            $0.sshSockets = ["default": sockets + "/default.sock", "deploy": sockets + "/deploy.sock"]
        }.build()
        #expect(try Self.readImageFile(service, image, "/agent") == "/run/buildkit/ssh_agent.0\n")
        #expect(try Self.readImageFile(service, image, "/deploy") == "ok\n")
        #expect(try Self.readImageFile(service, image, "/skipped") == "skipped\n")
        #expect(try Self.readImageFile(service, image, "/run/buildkit/ssh_agent.0") == nil)
        #expect(try Self.readImageFile(service, image, "/tmp/agent.sock") == nil)

        try "FROM build/busybox:1\nRUN --mount=type=ssh,id=absent,required true\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        do {
            _ = try await Self.builder(service, context: context, output: "/dev/null").build()
            Issue.record("a required agent that is not given must fail")
        } catch {
            #expect("\(error)".contains("the SSH agent absent is required"), "\(error)")
        }
    }
}
