import Foundation
import Testing

/// The list endpoints' filters as dockerd applies them, through the docker CLI: networks
/// (`network ls --filter`, unknown filters refused), images narrowed to the names a
/// `reference` matches, anchored name expressions for containers and volumes, and the
/// build cache's prune (`docker builder prune`, the last step of `docker system prune`).
@Suite(.serialized)
struct DockerListFilterTests {
    static let hasDocker = FileManager.default.isExecutableFile(atPath: DockerDaemonFixture.dockerCLI)
    static let image = DockerDaemonFixture.image

    static func lines(_ result: Shell.Result) -> [String] {
        result.stdout.split(separator: "\n").map(String.init)
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func networkFilters() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["network", "create", "--label", "env=test", "lf-one"]).status == 0)
        #expect(try fixture.docker(["network", "create", "lf-two"]).status == 0)
        // A network is in use while a container on it runs (dockerd's endpoints).
        #expect(try fixture.docker(["run", "-d", "--name", "user", "--network", "lf-two", Self.image, "sleep", "100"]).status == 0)
        let ls = { (filter: String) throws -> [String] in
            Self.lines(try fixture.docker(["network", "ls", "--filter", filter, "--format", "{{.Name}}"])).sorted()
        }
        #expect(try ls("label=env=test") == ["lf-one"])
        #expect(try ls("label=env") == ["lf-one"])
        #expect(try ls("type=builtin") == ["bridge", "host", "none"])
        #expect(try ls("type=custom") == ["lf-one", "lf-two"])
        #expect(try ls("name=^lf-t") == ["lf-two"])
        #expect(try ls("dangling=true") == ["lf-one"])
        // The running container's endpoint, as dockerd shows it.
        let endpoint = try fixture.docker(["network", "inspect", "-f",
                                           "{{range .Containers}}{{.Name}} {{len .EndpointID}} {{.MacAddress}} {{.IPv4Address}}{{end}}", "lf-two"])
        let fields = endpoint.stdout.split(separator: " ").map(String.init)
        #expect(fields.count == 4 && fields[0] == "user" && fields[1] == "64" && fields[2].count == 17 && fields[3].contains("/"),
                "\(endpoint.stdout) \(endpoint.stderr)")
        #expect(try ls("driver=null") == ["none"])
        let id = try fixture.docker(["network", "inspect", "-f", "{{.Id}}", "lf-one"]).stdout.prefix(10)
        #expect(try ls("id=\(id)") == ["lf-one"])
        let bogus = try fixture.docker(["network", "ls", "--filter", "bogus=1"])
        #expect(bogus.status != 0 && bogus.stderr.contains("Invalid filter 'bogus'"), "\(bogus.stderr)")
        // The same filters from caisson's own command line.
        #expect(try fixture.caisson("network ls", ["--filter", "label=env=test", "--format", "{{.Name}}"]).stdout == "lf-one\n")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func imageReferencesContainerAndVolumeNames() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        #expect(try fixture.docker(["tag", Self.image, "local/busybox:2"]).status == 0)
        #expect(try fixture.docker(["tag", Self.image, "other/x:latest"]).status == 0)
        let images = { (arguments: [String]) throws -> [String] in
            Self.lines(try fixture.docker(["images"] + arguments + ["--format", "{{.Repository}}:{{.Tag}}"])).sorted()
        }
        // Only the names that match, as dockerd lists them; the image's other names not.
        #expect(try images(["--filter", "reference=local/busybox:1"]) == ["local/busybox:1"])
        #expect(try images(["local/busybox"]) == ["local/busybox:1", "local/busybox:2"])
        #expect(try images(["--filter", "reference=other/*"]) == ["other/x:latest"])
        #expect(try images([]) == ["local/busybox:1", "local/busybox:2", "other/x:latest"])

        #expect(try fixture.docker(["create", "--name", "a1", "--network", "none", Self.image, "true"]).status == 0)
        #expect(try fixture.docker(["create", "--name", "a10", "--network", "none", Self.image, "true"]).status == 0)
        let names = try fixture.docker(["ps", "-a", "--filter", "name=^a1$", "--format", "{{.Names}}"])
        #expect(names.stdout == "a1\n", "\(names.stderr)")
        #expect(try fixture.docker(["volume", "create", "v1"]).status == 0)
        #expect(try fixture.docker(["volume", "create", "xv1"]).status == 0)
        #expect(try fixture.docker(["volume", "ls", "--filter", "name=^v1", "--format", "{{.Name}}"]).stdout == "v1\n")
    }

    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(3)))
    func buildCachePrune() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let context = fixture.directory + "/prune-context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try "FROM \(Self.image)\nRUN echo cached > /f\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let build = try fixture.docker(["build", "-q", "-t", "pruned:1", context])
        #expect(build.status == 0, "\(build.stderr)")
        let prune = try fixture.docker(["builder", "prune", "-f"])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(prune.stdout.contains("Deleted build cache objects:") && prune.stdout.contains("Total reclaimed space:"), "\(prune.stdout)")
        // Nothing cached is left: the same build runs its step again.
        let again = try fixture.docker(["build", "-t", "pruned:1", context])
        #expect(again.status == 0 && !again.stdout.contains("Using cache"), "\(again.stdout)")
        let system = try fixture.docker(["system", "prune", "-f"])
        #expect(system.status == 0, "\(system.stderr)")
        let filtered = try fixture.docker(["builder", "prune", "-f", "--filter", "until=1h"])
        #expect(filtered.status != 0 && filtered.stderr.contains("until"), "\(filtered.stderr)")
    }
}
