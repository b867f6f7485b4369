import CaissonShim
import CZstd
import Foundation
import ImageSpec
import LayerArchive
import Testing

/// Layer unpacking: containment of hostile entries, whiteouts in both forms, every
/// entry type, and the three compressions.
@Suite(.timeLimit(.minutes(2)))
struct LayerTests {
    /// Applies an in-memory tar to a fresh directory.
    static func apply(_ items: [LayerItem], into root: String? = nil, mode: LayerApplier.WhiteoutMode = .apply) throws -> String {
        let target = try root ?? Scratch.directory("layer")
        let sink = CollectingSink()
        var writer = TarWriter(sink)
        try OCILayoutBuilder.write(items, &writer)
        try writer.finish()
        var reader = TarReader(MemorySource(sink.bytes))
        defer { reader.close() }
        _ = try LayerApplier(root: target, mode: mode).apply(&reader)
        return target
    }

    static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test("`..` that climbs out of the root is refused; absolute paths land inside the root")
    func dotDotAndAbsolute() throws {
        let outside = try Scratch.directory("outside")
        let root = try Scratch.directory("layer")
        let escape = "../../../../../../..\(outside)/escaped.txt"
        #expect(throws: ArchiveError.self) { try LayerTests.apply([.file(escape, "pwned\n")], into: root) }
        #expect(!FileManager.default.fileExists(atPath: outside + "/escaped.txt"))
        _ = try LayerTests.apply([.file("/abs/inside.txt", "ok\n"), .file("a/../b.txt", "fine\n")], into: root)
        #expect(LayerTests.read(root + "/abs/inside.txt") == "ok\n")
        #expect(LayerTests.read(root + "/b.txt") == "fine\n")
    }

    @Test("a symlink that points out of the root, then a file written through it, stays inside the root")
    func symlinkEscape() throws {
        let outside = try Scratch.directory("outside")
        let root = try Scratch.directory("layer")
        _ = try LayerTests.apply([
            .symlink("evil", to: outside),
            .symlink("up", to: "../../../../../../../.."),
            .file("evil/through-absolute.txt", "a\n"),
            .file("up\(outside)/through-relative.txt", "b\n"),
        ], into: root)
        #expect(!FileManager.default.fileExists(atPath: outside + "/through-absolute.txt"))
        #expect(!FileManager.default.fileExists(atPath: outside + "/through-relative.txt"))
        // They landed inside, where the link resolves when the root is "/".
        #expect(LayerTests.read(root + outside + "/through-absolute.txt") == "a\n")
        #expect(LayerTests.read(root + outside + "/through-relative.txt") == "b\n")
        // The links themselves are kept as they were written.
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/evil") == outside)
    }

    @Test("a hard link to a file outside the root is contained, and a symlink entry is replaced, not followed")
    func hardLinkAndReplacedSymlink() throws {
        let outside = try Scratch.directory("outside")
        try "secret\n".write(toFile: outside + "/secret.txt", atomically: true, encoding: .utf8)
        let root = try Scratch.directory("layer")
        #expect(throws: ArchiveError.self) {
            try LayerTests.apply([.hardlink("stolen", to: "../../../../../..\(outside)/secret.txt")], into: root)
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/stolen"))
        // A later regular file at the path of a symlink replaces the link.
        _ = try LayerTests.apply([.symlink("target", to: outside + "/secret.txt"), .file("target", "replaced\n")], into: root)
        #expect(LayerTests.read(outside + "/secret.txt") == "secret\n")
        #expect(LayerTests.read(root + "/target") == "replaced\n")
    }

    @Test("whiteouts and opaque directories in apply mode delete from the layers below")
    func whiteoutsApplied() throws {
        let root = try LayerTests.apply([.directory("d"), .file("d/a", "a"), .file("d/b", "b"), .directory("o"), .file("o/old", "o"),
                                         .file("gone", "x")])
        _ = try LayerTests.apply([.whiteout("d/a"), .whiteout("gone"), .opaque("o"), .file("o/new", "n")], into: root)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/d") == ["b"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/o") == ["new"])
        #expect(!FileManager.default.fileExists(atPath: root + "/gone"))
    }

    @Test("whiteouts in overlay mode become 0:0 character devices and the opaque xattr")
    func whiteoutsForOverlay() throws {
        let root = try LayerTests.apply([.directory("o"), .opaque("o"), .whiteout("d/a")], mode: .overlay)
        var info = stat()
        #expect(lstat(root + "/d/a", &info) == 0)
        #expect((info.st_mode & S_IFMT) == S_IFCHR)
        #expect(info.st_rdev == 0)
        var value = [UInt8](repeating: 0, count: 4)
        let n = getxattr(root + "/o", "trusted.overlay.opaque", &value, 4)
        #expect(n == 1 && value[0] == UInt8(ascii: "y"))
    }

    @Test("modes, owners, devices, fifos and long names survive a round trip through the tar writer and applier")
    func entryKinds() throws {
        let longName = String(repeating: "n", count: 120) + "/" + String(repeating: "m", count: 130)
        let sink = CollectingSink()
        var writer = TarWriter(sink)
        try writer.writeHeader(TarEntry(path: "owned", kind: .file, size: 2, mode: 0o4750, uid: 1234, gid: 5678))
        try writer.writeContent(Array("hi".utf8))
        try writer.writeHeader(TarEntry(path: "null", kind: .characterDevice, mode: 0o666, deviceMajor: 1, deviceMinor: 3))
        try writer.writeHeader(TarEntry(path: "pipe", kind: .fifo, mode: 0o600))
        try writer.writeFile(longName, Array("long\n".utf8))
        try writer.finish()
        let root = try Scratch.directory("layer")
        var reader = TarReader(MemorySource(sink.bytes))
        defer { reader.close() }
        _ = try LayerApplier(root: root, mode: .apply).apply(&reader)
        var info = stat()
        #expect(lstat(root + "/owned", &info) == 0)
        #expect(info.st_uid == 1234 && info.st_gid == 5678)
        #expect(info.st_mode & 0o7777 == 0o4750)
        #expect(lstat(root + "/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == caisson_makedev(1, 3))
        #expect(lstat(root + "/pipe", &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
        #expect(LayerTests.read(root + "/" + longName) == "long\n")
    }

    @Test("gzip, zstd and uncompressed layers decompress to the same diff id")
    func compressions() throws {
        let sink = CollectingSink()
        var writer = TarWriter(sink)
        try OCILayoutBuilder.write([.file("a.txt", String(repeating: "caisson ", count: 10000))], &writer)
        try writer.finish()
        let plain = sink.bytes
        let diffID = Digest.sha256(of: plain)
        let gzipped = CollectingSink()
        var gzip = try GzipSink(gzipped)
        try gzip.write(plain)
        try gzip.finish()
        var zstd = [UInt8](repeating: 0, count: ZSTD_compressBound(plain.count))
        let zstdSize = ZSTD_compress(&zstd, zstd.count, plain, plain.count, 3)
        #expect(ZSTD_isError(zstdSize) == 0)
        zstd.removeSubrange(zstdSize...)
        let directory = try Scratch.directory("compressed")
        for (name, bytes, compression) in [("plain", plain, LayerCompression.none), ("gz", gzipped.bytes, .gzip), ("zst", zstd, .zstd)] {
            let path = directory + "/" + name
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            #expect(detectCompression(fd: fd) == compression)
            var stream = DigestingSource(try decompressing(FileSource(fd: fd), compression))
            #expect(try stream.drainAndFinalize() == diffID, "\(name)")
        }
        // A truncated gzip stream is an error, not a short layer.
        let truncated = directory + "/truncated"
        _ = FileManager.default.createFile(atPath: truncated, contents: Data(gzipped.bytes.prefix(gzipped.bytes.count / 2)))
        let fd = open(truncated, O_RDONLY)
        defer { close(fd) }
        var stream = DigestingSource(try decompressing(FileSource(fd: fd), .gzip))
        #expect(throws: ArchiveError.self) { _ = try stream.drainAndFinalize() }
    }
}

/// Collects written bytes in memory.
final class CollectingSink: ByteSink {
    var bytes: [UInt8] = []
    func write(_ buffer: UnsafeRawBufferPointer) throws(ArchiveError) { bytes.append(contentsOf: buffer) }
    func finish() throws(ArchiveError) {}
}
