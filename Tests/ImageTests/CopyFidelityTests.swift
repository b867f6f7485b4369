import Builder
import CaissonShim
import Foundation
import Images
import Testing

/// COPY keeps what BuildKit keeps: hard links among the files it copies, extended
/// attributes, files a `!` exception includes under an excluded directory; and it writes
/// through a symlink to a directory the image has in the destination.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CopyFidelityTests {
    @Test func copyKeepsLinksAttributesAndExceptions() throws {
        let (service, base, root) = try RunStepTests.base()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = try Scratch.directory("context")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Shell.run("/bin/sh", ["-ec", """
            cd \(directory)
            mkdir -p tree/sub docs
            echo same > tree/one && ln tree/one tree/two && ln -s sub tree/dirlink
            echo keep > docs/keep.md && echo drop > docs/drop.md
            printf 'docs\\n!docs/keep.md\\n' > .dockerignore
            """])
        #expect(setxattr(directory + "/tree/one", "user.test", "yes", 3, 0) == 0)
        let context = try BuildContext(directory: directory)

        let copied = try CopyStep(sources: ["tree", "docs"], destination: "/app/", createdBy: "COPY tree docs /app/")
            .run(on: base, context: context, images: service)
        let layer = service.snapshots.layerPath(try #require(copied.layers.last).diffID)
        var one = stat(), two = stat()
        #expect(lstat(layer + "/app/one", &one) == 0 && lstat(layer + "/app/two", &two) == 0)
        #expect(one.st_ino == two.st_ino && one.st_nlink == 2)
        var value = [UInt8](repeating: 0, count: 8)
        #expect(lgetxattr(layer + "/app/one", "user.test", &value, value.count) == 3)
        #expect(FileManager.default.fileExists(atPath: layer + "/app/keep.md"))
        #expect(!FileManager.default.fileExists(atPath: layer + "/app/drop.md"))

        // /app/dirlink -> sub in the image: a COPY into it writes into /app/sub.
        let through = try CopyStep(sources: ["docs/keep.md"], destination: "/app/dirlink/", createdBy: "COPY docs/keep.md /app/dirlink/")
            .run(on: copied, context: context, images: service)
        let top = service.snapshots.layerPath(try #require(through.layers.last).diffID)
        #expect(FileManager.default.fileExists(atPath: top + "/app/sub/keep.md"))
        var link = stat()
        #expect(lstat(top + "/app/dirlink", &link) != 0)
    }
}
