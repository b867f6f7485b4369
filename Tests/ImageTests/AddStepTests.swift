@testable import Builder
import CaissonSys
import Foundation
import ImageSpec
import Images
import Testing

/// ADD of URLs (served by Python's http.server on loopback) and of bzip2 and xz archives,
/// in real builds, checked in the built image's filesystem.
// The limit counts from when the suite is scheduled: in the whole suite on two cores these
// async builds wait minutes for a thread, so it is generous (it is there to catch hangs).
@Suite(.serialized, .timeLimit(.minutes(10)))
struct AddStepTests {
    /// `python3 -m http.server` serving `directory` on a free loopback port.
    final class FileServer {
        let process: BackgroundProcess
        let port: UInt16

        init(_ directory: String) throws {
            port = Ports.free()
            process = try BackgroundProcess("/usr/bin/python3", ["-m", "http.server", "--bind", "127.0.0.1", "\(port)",
                                                                  "--directory", directory],
                                            log: directory + "/../http-server.log")
            guard Ports.waitForListener(port) else { throw POSIXError(.ETIMEDOUT) }
        }

        func url(_ path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }
    }

    static func store() throws -> (ImageService, String) {
        let (service, base, root) = try RunStepTests.base()
        _ = try service.writeImage(layers: base.layers, config: base.config, history: base.history, platform: base.platform,
                                   names: ["build/busybox:1"])
        return (service, root)
    }

    static func build(_ service: ImageService, _ context: String, _ dockerfile: String, log: String = "/dev/null") async throws -> ImageRecord {
        try dockerfile.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        return try await ImageBuilderTests.builder(service, context: context, output: log).build()
    }

    /// Runs `body` with the image's root filesystem mounted.
    static func inspect(_ service: ImageService, _ image: ImageRecord, _ body: (String) throws -> Void) throws {
        let target = try Scratch.directory("add-check")
        let id = Scratch.uniqueID("add-check")
        try service.mountRootfs(image, id: id, target: target)
        defer { try? service.unmountRootfs(id: id, target: target) }
        try body(target)
    }

    static func info(_ path: String) throws -> stat {
        var result = stat()
        guard lstat(path, &result) == 0 else { throw POSIXError(.ENOENT) }
        return result
    }

    static func sha256(_ path: String) throws -> String {
        Digest.sha256(of: try Files.readBytes(path)).description
    }

    @Test func addDownloadsURLsAsBuildKitDoes() async throws {
        let (service, root) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let served = try Scratch.directory("add-served") + "/www"
        let context = try Scratch.directory("add-url-context")
        try Shell.run("/bin/sh", ["-ec", """
            mkdir -p \(served)/dir; cd \(served)
            echo hello > hello.txt; touch -d 2001-02-03T04:05:06Z hello.txt
            echo nested > dir/file%20name.txt
            mkdir tree; echo inside > tree/x; tar -C tree -czf files.tar.gz .; rm -r tree
            echo local > \(context)/local.txt
            """])
        let server = try FileServer(served)
        defer { server.process.stop() }
        let hello = try Self.sha256(served + "/hello.txt")
        let dockerfile = """
            FROM build/busybox:1
            ADD \(server.url("files.tar.gz")) /remote/
            ADD \(server.url("hello.txt")) /downloads/
            ADD \(server.url("hello.txt")) /renamed.txt
            ADD --chown=1:2 --chmod=644 \(server.url("hello.txt")) /owned.txt
            ADD --checksum=\(hello) \(server.url("hello.txt")) /pinned/
            ADD \(server.url("dir/file%2520name.txt?x=1")) /escaped/
            ADD --unpack=true \(server.url("files.tar.gz")) /unpacked/
            ADD local.txt \(server.url("hello.txt")) /mixed/
            """
        let log = root + "/build.log"
        let image = try await Self.build(service, context, dockerfile, log: log)
        try Self.inspect(service, image) { (rootfs) throws in
            #expect(try String(contentsOfFile: rootfs + "/downloads/hello.txt", encoding: .utf8) == "hello\n")
            let downloaded = try Self.info(rootfs + "/downloads/hello.txt")
            #expect(downloaded.st_mode & 0o7777 == 0o600)
            #expect(downloaded.st_uid == 0 && downloaded.st_gid == 0)
            #expect(downloaded.st_mtim.tv_sec == 981_173_106)  // Last-Modified
            #expect(try String(contentsOfFile: rootfs + "/renamed.txt", encoding: .utf8) == "hello\n")
            let owned = try Self.info(rootfs + "/owned.txt")
            #expect(owned.st_mode & 0o7777 == 0o644)
            #expect(owned.st_uid == 1 && owned.st_gid == 2)
            #expect(try String(contentsOfFile: rootfs + "/pinned/hello.txt", encoding: .utf8) == "hello\n")
            #expect(try String(contentsOfFile: rootfs + "/escaped/file%20name.txt", encoding: .utf8) == "nested\n")
            // A remote archive is not unpacked, unless --unpack says so.
            #expect(FileManager.default.fileExists(atPath: rootfs + "/remote/files.tar.gz"))
            #expect(!FileManager.default.fileExists(atPath: rootfs + "/remote/x"))
            #expect(try String(contentsOfFile: rootfs + "/unpacked/x", encoding: .utf8) == "inside\n")
            #expect(try String(contentsOfFile: rootfs + "/mixed/local.txt", encoding: .utf8) == "local\n")
            #expect(try String(contentsOfFile: rootfs + "/mixed/hello.txt", encoding: .utf8) == "hello\n")
        }
        #expect(try service.config(of: image).history?.contains { $0.created_by == "ADD \(server.url("hello.txt")) /renamed.txt # buildkit" } == true)

        // Unchanged remote files: every ADD from cache, the same image.
        try "".write(toFile: log, atomically: true, encoding: .utf8)
        let again = try await Self.build(service, context, dockerfile, log: log)
        #expect(again.id == image.id)
        #expect(try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "--> Using cache").count - 1 == 8)

        // Changed content: the first ADD of it and all after it run again.
        try "changed\n".write(toFile: served + "/hello.txt", atomically: true, encoding: .utf8)
        let changedDockerfile = dockerfile.split(separator: "\n").filter { !$0.contains("--checksum") }.joined(separator: "\n")
        try "".write(toFile: log, atomically: true, encoding: .utf8)
        let changed = try await Self.build(service, context, changedDockerfile, log: log)
        #expect(try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "--> Using cache").count - 1 == 1)
        try Self.inspect(service, changed) { (rootfs) throws in
            #expect(try String(contentsOfFile: rootfs + "/renamed.txt", encoding: .utf8) == "changed\n")
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: service.root + "/build")) ?? [] == [])
    }

    @Test func badURLsAndChecksumsFailClearly() async throws {
        let (service, root) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let served = try Scratch.directory("add-served-bad") + "/www"
        let context = try Scratch.directory("add-bad-context")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try "hello\n".write(toFile: served + "/hello.txt", atomically: true, encoding: .utf8)
        try "local\n".write(toFile: context + "/local.txt", atomically: true, encoding: .utf8)
        let server = try FileServer(served)
        defer { server.process.stop() }
        let right = try Self.sha256(served + "/hello.txt")
        let wrong = "sha256:" + String(repeating: "ab", count: 32)
        let closed = "http://127.0.0.1:\(Ports.free())/hello.txt"
        for (line, expected) in [
            ("ADD \(server.url("missing.txt")) /x", ["\(server.url("missing.txt"))", "404"]),
            ("ADD --checksum=\(wrong) \(server.url("hello.txt")) /x", ["checksum mismatch", right, wrong]),
            ("ADD \(closed) /x", [closed, "connection refused"]),
            ("ADD --checksum=\(right) local.txt /x", ["checksum can't be specified for non-HTTP(S) sources"]),
            ("ADD --checksum=\(right) \(server.url("hello.txt")) local.txt /x/", ["checksum can't be specified for multiple sources"]),
            ("ADD --checksum=md5:00 \(server.url("hello.txt")) /x", ["invalid --checksum md5:00"]),
            ("ADD https://example.com/project.git /src", ["git repository"]),
            ("ADD git@example.com:project.git /src", ["git repository"]),
            ("COPY \(server.url("hello.txt")) /x", ["source can't be a URL for COPY"]),
        ] {
            do {
                _ = try await Self.build(service, context, "FROM build/busybox:1\n" + line + "\n")
                Issue.record("\(line) should fail")
            } catch {
                for text in expected { #expect("\(error)".contains(text), "\(line): \(error)") }
            }
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: service.root + "/build")) ?? [] == [])
    }

    @Test func addUnpacksBzip2AndXzArchives() async throws {
        let (service, root) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("add-archives")
        try Shell.run("/bin/sh", ["-ec", """
            cd \(context); mkdir -p tree/sub; echo inside > tree/sub/y; echo top > tree/top
            tar -C tree -cjf files.tar.bz2 .; tar -C tree -cJf files.tar.xz .
            echo notes > notes.txt; bzip2 -k notes.txt; xz -k notes.txt; gzip -k notes.txt
            """])
        let image = try await Self.build(service, context, """
            FROM build/busybox:1
            ADD files.tar.bz2 /bz/
            ADD files.tar.xz /xz/
            ADD notes.txt.bz2 notes.txt.xz notes.txt.gz /plain/
            ADD --unpack=false files.tar.xz /kept/
            """)
        try Self.inspect(service, image) { (rootfs) throws in
            for directory in ["/bz", "/xz"] {
                #expect(try String(contentsOfFile: rootfs + directory + "/sub/y", encoding: .utf8) == "inside\n")
                #expect(try String(contentsOfFile: rootfs + directory + "/top", encoding: .utf8) == "top\n")
            }
            // Compressed files that are not tar archives are copied as they are.
            for name in ["notes.txt.bz2", "notes.txt.xz", "notes.txt.gz"] {
                #expect(try Data(contentsOf: URL(fileURLWithPath: rootfs + "/plain/" + name))
                        == Data(contentsOf: URL(fileURLWithPath: context + "/" + name)))
            }
            #expect(FileManager.default.fileExists(atPath: rootfs + "/kept/files.tar.xz"))
            #expect(!FileManager.default.fileExists(atPath: rootfs + "/kept/top"))
        }

        // An archive cut short after its first blocks: the step fails with bzip2's own words.
        try Shell.run("/bin/sh", ["-ec", """
            cd \(context); mkdir big; head -c 3000000 /dev/urandom > big/random
            tar -C big -cjf big.tar.bz2 .; head -c 2000000 big.tar.bz2 > cut.tar.bz2
            """])
        do {
            _ = try await Self.build(service, context, "FROM build/busybox:1\nADD cut.tar.bz2 /cut/\n")
            Issue.record("a truncated archive must fail")
        } catch {
            #expect("\(error)".contains("cannot unpack"), "\(error)")
            #expect("\(error)".contains("bzip2"), "\(error)")
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: service.root + "/build")) ?? [] == [])
    }

    @Test func decompressorsAndURLNames() throws {
        #expect(RemoteSource.fileName(of: "https://example.com/a/b.tar.gz?x=1#y") == "b.tar.gz")
        #expect(RemoteSource.fileName(of: "https://example.com/a/dir/") == "dir")
        #expect(RemoteSource.fileName(of: "https://example.com") == "__unnamed__")
        #expect(RemoteSource.fileName(of: "https://example.com/") == "__unnamed__")
        #expect(RemoteSource.fileName(of: "https://example.com/a%20b") == "a b")
        #expect(RemoteSource.fileName(of: "https://example.com/x/..") == "__unnamed__")
        #expect(RemoteSource.isGit("https://github.com/moby/buildkit.git#v0.10.1"))
        #expect(RemoteSource.isGit("git@github.com:moby/buildkit.git"))
        #expect(!RemoteSource.isGit("https://example.com/file.tar.gz"))
        #expect(HTTPDate.parse("Sat, 03 Feb 2001 04:05:06 GMT") == 981_173_106)
        #expect(HTTPDate.parse("Saturday, 03-Feb-01 04:05:06 GMT") == 981_173_106)
        #expect(HTTPDate.parse("Sat Feb  3 04:05:06 2001") == 981_173_106)
        #expect(HTTPDate.parse("yesterday") == nil)
        // A missing decompressor is named, with the package that installs it.
        do {
            _ = try Decompressor(tool: "caisson-no-such-unzipper", input: 0, path: "/x.tar.zz")
            Issue.record("a missing program must fail")
        } catch {
            #expect("\(error)".contains("caisson-no-such-unzipper program is not installed"))
        }
    }
}
