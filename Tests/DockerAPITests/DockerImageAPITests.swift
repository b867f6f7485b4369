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
        // The default network: RUN on a namespace of its own on the bridge network.
        let failed = try fixture.docker(["build", "-t", "broken:1", context])
        #expect(failed.status != 0)
        #expect(failed.stdout.contains("going"), "\(failed.stdout)")
        #expect(failed.stderr.contains("returned a non-zero code: 3"), "\(failed.stderr)")
        let limited = try fixture.docker(["build", "--memory", "64m", "--network", "none", context])
        #expect(limited.status != 0 && limited.stderr.contains("memory"), "\(limited.stderr)")

        // A gzip-compressed context on standard input, sent as it is; -q prints the id alone.
        try "FROM \(DockerDaemonFixture.image)\nCOPY greeting /g\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let zipped = fixture.directory + "/context.tar.gz"
        #expect(try Shell.run("/bin/tar", ["-C", context, "-czf", zipped, "."]).status == 0)
        let quiet = try Shell.run("/bin/bash", ["-c", "\(DockerDaemonFixture.dockerCLI) build -q -t zipped:1 - < \(zipped)"],
                                  environment: fixture.dockerEnvironment)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stdout.hasPrefix("sha256:") && !quiet.stdout.contains("Step"), "\(quiet.stdout)")
        #expect(try fixture.docker(["run", "--rm", "--network", "none", "zipped:1", "cat", "/g"]).stdout == "hello from the context\n")
        let platform = try fixture.docker(["build", "--platform", "linux/arm64", context])
        #expect(platform.status != 0 && platform.stderr.contains("platform"), "\(platform.stderr)")
    }

    /// `docker save | docker load`, `docker save -o`, `docker history`, `docker import`,
    /// `docker image prune -f`, `docker images --filter`.
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func archivesHistoryImportPrune() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let image = DockerDaemonFixture.image
        let file = fixture.directory + "/saved.tar"
        let saved = try fixture.docker(["save", "-o", file, image])
        #expect(saved.status == 0, "\(saved.stderr)")
        let listing = try Shell.run("/bin/tar", ["-tf", file])
        #expect(listing.stdout.contains("manifest.json"), "\(listing.stdout)")
        // The legacy `repositories` index, as dockerd writes it: repository -> tag -> top layer.
        let repositories = try Shell.run("/bin/tar", ["-xOf", file, "repositories"])
        let repository = image.split(separator: ":").dropLast().joined(separator: ":")
        let tag = String(image.split(separator: ":").last ?? "")
        let index = try JSONSerialization.jsonObject(with: Data(repositories.stdout.utf8)) as? [String: [String: String]]
        let top = index?[repository]?[tag] ?? "none"
        #expect(listing.stdout.contains(top + "/layer.tar"), "\(repositories.stdout)\n\(listing.stdout)")
        let piped = try Shell.run("/bin/bash", ["-c", "\(DockerDaemonFixture.dockerCLI) save \(image) | \(DockerDaemonFixture.dockerCLI) load"],
                                  environment: fixture.dockerEnvironment)
        #expect(piped.status == 0, "\(piped.stderr)\n\(fixture.daemonLog)")
        #expect(piped.stdout.contains("Loaded image: \(image)"), "\(piped.stdout)")
        #expect(try fixture.docker(["rmi", image]).status == 0)
        let loaded = try fixture.docker(["load", "-i", file])
        #expect(loaded.stdout.contains("Loaded image: \(image)"), "\(loaded.stdout) \(loaded.stderr)")
        let missing = try fixture.docker(["save", "-o", fixture.directory + "/none.tar", "nosuch:1"])
        #expect(missing.status != 0 && missing.stderr.contains("nosuch"), "\(missing.stderr)")

        let history = try fixture.docker(["history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}", image])
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.hasPrefix("sha256:"), "\(history.stdout)")

        let rootfs = fixture.directory + "/rootfs.tar"
        let imported = try fixture.docker(["import", "--change", "CMD [\"/bin/echo\", \"imported\"]", "--message", "via api", rootfs, "imported:1"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("sha256:"), "\(imported.stdout)")
        let ran = try fixture.docker(["run", "--rm", "--network", "none", "imported:1"])
        #expect(ran.stdout == "imported\n", "\(ran.stderr)")
        let filtered = try fixture.docker(["images", "--filter", "reference=imported", "--format", "{{.Repository}}:{{.Tag}}"])
        #expect(filtered.stdout == "imported:1\n", "\(filtered.stdout) \(filtered.stderr)")
        let since = try fixture.docker(["images", "--filter", "since=\(image)", "--format", "{{.Repository}}"])
        #expect(since.stdout == "imported\n", "\(since.stdout) \(since.stderr)")
        let before = try fixture.docker(["images", "--filter", "before=imported:1", "--format", "{{.Repository}}:{{.Tag}}"])
        #expect(before.stdout == image + "\n", "\(before.stdout) \(before.stderr)")

        // A dangling image (the untagged import) goes with prune; tagged ones stay.
        let dangling = try fixture.docker(["import", rootfs])
        let danglingID = dangling.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(dangling.status == 0 && danglingID.hasPrefix("sha256:"), "\(dangling.stderr)")
        let listed = try fixture.docker(["images", "-q", "--no-trunc", "--filter", "dangling=true"])
        #expect(listed.stdout == danglingID + "\n", "\(listed.stdout)")
        let pruned = try fixture.docker(["image", "prune", "-f"])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("deleted: \(danglingID)"), "\(pruned.stdout)")
        let left = try fixture.caisson("images", ["--format", "{{.Repository}}:{{.Tag}}"]).stdout
        #expect(left.contains("imported:1") && left.contains(image), "\(left)")
        let search = try fixture.docker(["search", "127.0.0.1:1/busybox"])
        #expect(search.status != 0 && search.stderr.contains("cannot search 127.0.0.1:1"), "\(search.stderr)")
    }

    /// `docker push` to a registry with basic auth after `docker login`, `docker rmi`,
    /// `docker pull` back; `/distribution/{name}/json`; a wrong password is refused.
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func pushLoginPullDistribution() throws {
        let registry = try TestRegistry(basicAuth: true)
        defer { registry.stop() }
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let bad = try fixture.docker(["login", "-u", TestRegistry.user, "--password-stdin", registry.host], stdin: "wrong\n")
        #expect(bad.status != 0 && bad.stderr.contains("unauthorized"), "\(bad.stderr)")
        let login = try fixture.docker(["login", "-u", TestRegistry.user, "--password-stdin", registry.host], stdin: TestRegistry.password + "\n")
        #expect(login.status == 0 && login.stdout.contains("Login Succeeded"), "\(login.stdout) \(login.stderr)\n\(fixture.daemonLog)")

        let name = "\(registry.host)/tests/busybox:1"
        #expect(try fixture.docker(["tag", DockerDaemonFixture.image, name]).status == 0)
        let pushed = try fixture.docker(["push", name])
        #expect(pushed.status == 0, "\(pushed.stderr)\n\(fixture.daemonLog)")
        #expect(pushed.stdout.contains("The push refers to repository [\(registry.host)/tests/busybox]"), "\(pushed.stdout)")
        #expect(pushed.stdout.contains("Pushed") && pushed.stdout.contains("1: digest: sha256:"), "\(pushed.stdout)")
        let again = try fixture.docker(["push", name])
        #expect(again.stdout.contains("Layer already exists"), "\(again.stdout)")
        let second = "\(registry.host)/tests/busybox:2"
        #expect(try fixture.docker(["tag", DockerDaemonFixture.image, second]).status == 0)
        let allTags = try fixture.docker(["push", "--all-tags", "\(registry.host)/tests/busybox"])
        #expect(allTags.status == 0 && allTags.stdout.contains("1: digest:") && allTags.stdout.contains("2: digest:"),
                "\(allTags.stdout) \(allTags.stderr)")
        #expect(try fixture.docker(["rmi", second]).status == 0)

        // docker search HOST/TERM: the registry's catalog (with the CLI's credentials),
        // names holding the term; limits and filters as docker checks them.
        #expect(try fixture.docker(["tag", DockerDaemonFixture.image, "\(registry.host)/team/tools:1"]).status == 0)
        #expect(try fixture.docker(["push", "\(registry.host)/team/tools:1"]).status == 0)
        let found = try fixture.docker(["search", "\(registry.host)/busy"])
        #expect(found.status == 0 && found.stdout.hasPrefix("NAME") && found.stdout.contains("\(registry.host)/tests/busybox")
                && !found.stdout.contains("team/tools"), "\(found.stdout) \(found.stderr)")
        let every = try fixture.docker(["search", "--format", "{{.Name}}", "\(registry.host)/"])
        #expect(every.stdout == "\(registry.host)/team/tools\n\(registry.host)/tests/busybox\n", "\(every.stdout) \(every.stderr)")
        let official = try fixture.docker(["search", "--filter", "is-official=true", "--format", "{{.Name}}", "\(registry.host)/busy"])
        #expect(official.status == 0 && official.stdout.isEmpty, "\(official.stdout) \(official.stderr)")
        let tooMany = try fixture.docker(["search", "--limit", "101", "\(registry.host)/busy"])
        #expect(tooMany.status != 0 && tooMany.stderr.contains("outside the range of [1, 100]"), "\(tooMany.stderr)")
        let badFilter = try fixture.request("GET", "/v1.45/images/search?term=\(registry.host)/busy&filters=%7B%22color%22%3A%5B%22red%22%5D%7D")
        #expect(badFilter.status == 400 && badFilter.body.contains("invalid filter 'color'"), "\(badFilter.body)")
        let unreachable = try fixture.request("GET", "/v1.45/images/search?term=127.0.0.1:1/busy")
        #expect(unreachable.status == 500 && unreachable.body.contains("cannot search 127.0.0.1:1"), "\(unreachable.body)")
        // caisson search: anonymous is refused by this registry; logged in, the same answer.
        let authFile = fixture.directory + "/auth.json"
        let anonymousSearch = try fixture.caisson("search", ["--authfile", authFile, "\(registry.host)/busy"])
        #expect(anonymousSearch.status != 0 && anonymousSearch.stderr.contains("unauthorized"), "\(anonymousSearch.stderr)")
        #expect(try Shell.run(DockerDaemonFixture.binDirectory + "/caisson",
                              ["login", "--authfile", authFile, "-u", TestRegistry.user, "--password-stdin", registry.host],
                              stdin: TestRegistry.password + "\n").status == 0)
        let cliSearch = try fixture.caisson("search", ["--authfile", authFile, "--format", "{{.Name}}", "\(registry.host)/tools"])
        #expect(cliSearch.stdout == "\(registry.host)/team/tools\n", "\(cliSearch.stdout) \(cliSearch.stderr)")

        let anonymous = try fixture.request("GET", "/v1.45/distribution/\(name)/json")
        #expect(anonymous.status == 401, "\(anonymous.body)")
        let auth = Data("{\"username\":\"\(TestRegistry.user)\",\"password\":\"\(TestRegistry.password)\",\"serveraddress\":\"\(registry.host)\"}".utf8)
            .base64EncodedString()
        let inspected = try fixture.request("GET", "/v1.45/distribution/\(name)/json", headers: ["X-Registry-Auth: " + auth])
        #expect(inspected.status == 200 && inspected.body.contains("\"Descriptor\"") && inspected.body.contains("\"os\":\"linux\""),
                "\(inspected.body)")

        #expect(try fixture.docker(["rmi", name]).status == 0)
        let pulled = try fixture.docker(["pull", name])
        #expect(pulled.status == 0 && pulled.stdout.contains("Digest: sha256:"), "\(pulled.stdout) \(pulled.stderr)")
        let run = try fixture.docker(["run", "--rm", "--network", "none", name, "echo", "round trip"])
        #expect(run.stdout == "round trip\n", "\(run.stderr)")
    }

    /// docker's documents and refusals through raw requests: build parameters without an
    /// equivalent, BuildKit's version, history's fields, list and prune filters.
    @Test(.enabled(if: hasDocker), .timeLimit(.minutes(2)))
    func documentsAndRefusals() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        for (query, name) in [("extrahosts=%5B%22a%3A1.2.3.4%22%5D", "extrahosts"), ("shmsize=67108864", "shmsize"),
                              ("version=2", "version"), ("networkmode=container%3Ax", "networkmode"),
                              ("cachefrom=%5B%22x%22%5D", "cachefrom")] {
            let refused = try fixture.request("POST", "/v1.45/build?\(query)", body: "x")
            #expect(refused.status == 400 && refused.body.contains(name), "\(query): \(refused.status) \(refused.body)")
        }
        let notTar = try fixture.request("POST", "/v1.45/build", body: "not a tar archive at all")
        #expect(notTar.status == 400 && notTar.body.contains("tar"), "\(notTar.body)")
        let context = fixture.directory + "/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try "FROM scratch\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let noFile = try fixture.docker(["build", "-f", "Other.Dockerfile", context])
        #expect(noFile.status != 0 && noFile.stderr.contains("Other.Dockerfile"), "\(noFile.stderr)")
        let history = try fixture.request("GET", "/v1.45/images/\(DockerDaemonFixture.image)/history")
        #expect(history.status == 200, "\(history.body)")
        for field in ["\"Id\":\"sha256:", "\"Created\":", "\"CreatedBy\":", "\"Tags\":[\"\(DockerDaemonFixture.image)\"]", "\"Size\":", "\"Comment\":"] {
            #expect(history.body.contains(field), "\(field) in \(history.body)")
        }
        // Sizes as dockerd's overlay2 gives them: the layer unpacked (every entry that is not
        // a directory, a hard-linked file once), counted here by Python on the tree the
        // image was imported from; the same figure in images, inspect, history and df.
        let counted = try Shell.run("/usr/bin/python3", ["-c", """
            import os, sys
            seen, total = set(), 0
            for top, dirs, files in os.walk(sys.argv[1]):
                for name in dirs + files:
                    st = os.lstat(os.path.join(top, name))
                    if os.path.isdir(os.path.join(top, name)) and not os.path.islink(os.path.join(top, name)): continue
                    if (st.st_dev, st.st_ino) in seen: continue
                    seen.add((st.st_dev, st.st_ino)); total += st.st_size
            print(total)
            """, fixture.directory + "/bundle/rootfs"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(counted) ?? 0 > 500_000, "\(counted)")
        #expect(try fixture.docker(["image", "inspect", "-f", "{{.Size}}", DockerDaemonFixture.image]).stdout == counted + "\n")
        #expect(try fixture.docker(["history", "--no-trunc", "-H=false", "--format", "{{.Size}}", DockerDaemonFixture.image]).stdout
                    .split(separator: "\n").first.map(String.init) == counted)
        let usage = try fixture.request("GET", "/v1.45/system/df?type=image")
        #expect(usage.body.contains("\"LayersSize\":\(counted)") && usage.body.contains("\"Size\":\(counted)"), "\(usage.body)")
        #expect(try fixture.caisson("images", ["--format", "{{.Size}}"]).stdout.hasSuffix("MB\n"))
        let none = try fixture.request("GET", "/v1.45/images/json?filters=%7B%22label%22%3A%5B%22nosuch%22%5D%7D")
        #expect(none.status == 200 && none.body.hasPrefix("[]"), "\(none.body)")
        let badFilter = try fixture.request("GET", "/v1.45/images/json?filters=%7B%22color%22%3A%5B%22red%22%5D%7D")
        #expect(badFilter.status == 400 && badFilter.body.contains("color"), "\(badFilter.body)")
        let nothing = try fixture.request("POST", "/v1.45/images/prune")
        #expect(nothing.status == 200 && nothing.body.contains("\"ImagesDeleted\":null") && nothing.body.contains("\"SpaceReclaimed\":"), "\(nothing.body)")
        let all = try fixture.request("POST", "/v1.45/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D")
        #expect(all.status == 200 && all.body.contains("{\"Untagged\":\"\(DockerDaemonFixture.image)\"}") && all.body.contains("{\"Deleted\":\"sha256:"),
                "\(all.body)")
        #expect(try fixture.caisson("images", ["-q"]).stdout.isEmpty)
        let auth = try fixture.request("POST", "/v1.45/auth", body: "{\"username\":\"\"}")
        #expect(auth.status == 400 && auth.body.contains("username"), "\(auth.body)")
    }
}
