import Foundation
import Testing

/// The image endpoints through the docker CLI 28 (classic builder, save/load, push/pull
/// against a real registry, history, prune, import, login), with `caisson` seeing the
/// same images.
@Suite(.serialized)
struct DockerImageAPITests {
    static let hasDocker = FileManager.default.isExecutableFile(atPath: DockerDaemonFixture.dockerCLI)

    /// `DOCKER_BUILDKIT=0 docker build` with -f, --target, --build-arg, -t; the image runs
    /// and `caisson images` lists it; a failing RUN fails the build with docker's message.
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func classicBuild() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let context = fixture.directory + "/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try "hello from the context\n".write(toFile: context + "/greeting", atomically: true, encoding: .utf8)
        try """
        FROM \(DockerDaemonFixture.image) AS t
        ARG X=0
        COPY greeting /greeting
        RUN echo "x=$X" > /x
        LABEL stage=t

        FROM t
        RUN echo never > /never
        """.write(toFile: context + "/Dockerfile.alt", atomically: true, encoding: .utf8)
        let built = try fixture.docker(["build", "-t", "built:1", "--build-arg", "X=1", "-f", context + "/Dockerfile.alt",
                                        "--target", "t", "--network", "none", "--label", "via=api", context])
        #expect(built.status == 0, "\(built.stderr)\n\(fixture.daemonLog)")
        #expect(built.stdout.contains("Step 1/"), "\(built.stdout)")
        #expect(built.stdout.contains("Successfully built ") && built.stdout.contains("Successfully tagged built:1"), "\(built.stdout)")
        let run = try fixture.docker(["run", "--rm", "--network", "none", "built:1", "cat", "/x", "/greeting"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "x=1\nhello from the context\n")
        #expect(!(try fixture.docker(["run", "--rm", "--network", "none", "built:1", "ls", "/"]).stdout.contains("never")))
        let labels = try fixture.docker(["image", "inspect", "--format", "{{.Config.Labels.via}} {{.Config.Labels.stage}}", "built:1"])
        #expect(labels.stdout == "api t\n", "\(labels.stderr)")
        #expect(try fixture.caisson("images", ["--format", "{{.Repository}}:{{.Tag}}"]).stdout.contains("built:1\n"))

        try """
        FROM \(DockerDaemonFixture.image)
        RUN echo going; exit 3
        """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let failed = try fixture.docker(["build", "-t", "broken:1", "--network", "none", context])
        #expect(failed.status != 0)
        #expect(failed.stdout.contains("going"), "\(failed.stdout)")
        #expect(failed.stderr.contains("returned a non-zero code: 3"), "\(failed.stderr)")
        let limited = try fixture.docker(["build", "--memory", "64m", "--network", "none", context])
        #expect(limited.status != 0 && limited.stderr.contains("memory"), "\(limited.stderr)")
    }
}
