import Builder
import CaissonSys
import Foundation
import ImageSpec
import Images
import Testing

/// COPY from a build context into a layer, with the Dockerfile reference's rules.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CopyStepTests {
    static func context() throws -> BuildContext {
        let directory = try Scratch.directory("context")
        try Shell.run("/bin/sh", ["-ec", """
            cd \(directory)
            mkdir -p src/sub app
            echo main > src/main.c; echo util > src/sub/util.c; echo junk > src/junk.o
            ln -s main.c src/link
            echo a > a.txt; echo b > b.txt; echo secret > secret.key
            touch -d 2001-02-03T04:05:06 a.txt
            chmod 0751 b.txt
            printf '*.key\\nsrc/*.o\\n' > .dockerignore
            """])
        return try BuildContext(directory: directory)
    }

    static func listing(_ service: ImageService, _ state: BuildState) throws -> [String: stat] {
        let layer = service.snapshots.layerPath(try #require(state.layers.last).diffID)
        var result: [String: stat] = [:]
        for case let relative as String in FileManager.default.enumerator(atPath: layer)?.allObjects ?? [] {
            var info = stat()
            lstat(layer + "/" + relative, &info)
            result["/" + relative] = info
        }
        return result
    }

    @Test func copyFollowsTheReferencesRules() throws {
        let (service, base, root) = try RunStepTests.base()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Self.context()

        // A directory's contents, ignored files left out, symlinks kept.
        let dir = try CopyStep(sources: ["src"], destination: "/app/", createdBy: "COPY src /app/")
            .run(on: base, context: context, images: service)
        let tree = try Self.listing(service, dir)
        #expect(Set(tree.keys) == ["/app", "/app/main.c", "/app/sub", "/app/sub/util.c", "/app/link"])
        #expect(tree["/app/link"].map { $0.st_mode & S_IFMT == S_IFLNK } == true)

        // A file into a directory (trailing slash), renamed (no slash), under WORKDIR.
        var state = dir
        state.config.WorkingDir = "/work"
        let files = try CopyStep(sources: ["a.txt"], destination: "dest/", createdBy: "COPY a.txt dest/")
            .run(on: state, context: context, images: service)
        #expect(try Self.listing(service, files)["/work/dest/a.txt"] != nil)
        #expect(try Self.listing(service, files)["/work/dest/a.txt"]?.st_mtim.tv_sec == 981_173_106)
        var renamed = try CopyStep(sources: ["b.txt"], destination: "/etc/renamed", createdBy: "COPY b.txt /etc/renamed")
        renamed.owner = (uid: 1000, gid: 1001)
        let copied = try renamed.run(on: base, context: context, images: service)
        let info = try #require(try Self.listing(service, copied)["/etc/renamed"])
        #expect(info.st_uid == 1000 && info.st_gid == 1001 && info.st_mode & 0o7777 == 0o751)
        // /etc exists in the base: the layer's /etc is the base's, unchanged.
        let baseEtc = try #require(try Self.listing(service, BuildState(layers: [base.layers[0]]))["/etc"])
        #expect(try Self.listing(service, copied)["/etc"]?.st_mode == baseEtc.st_mode)

        // Wildcards, --chmod; ignored files never match.
        var wildcard = CopyStep(sources: ["*.txt", "*.key"], destination: "/w/", createdBy: "COPY *.txt *.key /w/")
        wildcard.mode = 0o600
        let matched = try Self.listing(service, try wildcard.run(on: base, context: context, images: service))
        #expect(Set(matched.keys) == ["/w", "/w/a.txt", "/w/b.txt"])
        #expect(matched["/w/b.txt"].map { $0.st_mode & 0o7777 } == 0o600)
    }

    @Test func badCopiesAreRefusedClearly() throws {
        let (service, base, root) = try RunStepTests.base()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Self.context()
        #expect(throws: BuildError.self) {
            try CopyStep(sources: ["a.txt", "b.txt"], destination: "/dir", createdBy: "COPY a.txt b.txt /dir").run(on: base, context: context, images: service)
        }
        do {
            _ = try CopyStep(sources: ["missing"], destination: "/", createdBy: "COPY missing /").run(on: base, context: context, images: service)
            Issue.record("a missing source must fail")
        } catch {
            #expect("\(error)".contains("file not found in build context"))
        }
        #expect(throws: BuildError.self) {
            try CopyStep(sources: ["secret.key"], destination: "/", createdBy: "COPY secret.key /").run(on: base, context: context, images: service)
        }
        #expect(throws: BuildError.self) {
            try CopyStep(sources: ["*.none"], destination: "/", createdBy: "COPY *.none /").run(on: base, context: context, images: service)
        }
        // "../" cannot leave the context.
        #expect(BuildContext.clean("../../etc/passwd") == "etc/passwd")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: service.root + "/build")) ?? [] == [])
    }
}
