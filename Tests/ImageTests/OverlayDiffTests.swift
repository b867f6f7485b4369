import CaissonShim
import CaissonSys
import Foundation
import LayerArchive
import Testing

/// An overlay upper directory archived as a layer and applied to the lower directory
/// gives exactly what the overlay mount showed: deletions, opaque directories, links,
/// special files, modes, owners and extended attributes (binary ones included).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct OverlayDiffTests {
    /// A tree's content, one line per path: type, mode, owner, content or link target, xattrs.
    static func describe(_ root: String) throws -> [String] {
        var lines: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            var line = "\(relative) \(String(info.st_mode, radix: 8)) \(info.st_uid):\(info.st_gid)"
            switch info.st_mode & S_IFMT {
            case S_IFREG: line += " \(try String(contentsOfFile: path, encoding: .utf8).debugDescription) links=\(info.st_nlink)"
            case S_IFLNK: line += " -> \(try FileManager.default.destinationOfSymbolicLink(atPath: path))"
            default: break
            }
            var names = [CChar](repeating: 0, count: 4096)
            let length = llistxattr(path, &names, names.count)
            if length > 0 {
                for raw in names[0..<length].split(separator: 0) {
                    let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if name.hasPrefix("trusted.overlay.") { continue }
                    var value = [UInt8](repeating: 0, count: 256)
                    let size = lgetxattr(path, name, &value, value.count)
                    line += " \(name)=\(value[0..<max(0, size)].map { String($0, radix: 16) }.joined(separator: ","))"
                }
            }
            lines.append(line)
        }
        return lines.sorted()
    }

    static func sh(_ script: String) throws {
        let ran = try Shell.run("/bin/sh", ["-ec", script])
        #expect(ran.status == 0, "\(script): \(ran.stderr)")
    }

    static func archive(_ upper: String, timestamp: Int64? = nil) throws -> (bytes: [UInt8], entries: Int) {
        let sink = CollectingSink()
        var writer = TarWriter(sink)
        var archiver = OverlayDiffArchiver(timestamp: timestamp)
        try archiver.archive(upperDirectory: upper, into: &writer)
        try writer.finish()
        return (sink.bytes, archiver.entries)
    }

    @Test func upperDirectoryRoundTripsThroughALayer() throws {
        let base = try Scratch.directory("overlay-diff")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let (lower, upper, work, merged) = (base + "/lower", base + "/upper", base + "/work", base + "/merged")
        try Self.sh("""
            mkdir -p \(lower) \(upper) \(work) \(merged)
            cd \(lower)
            echo a > a; echo keep > keep; mkdir -p dir gone/deep opaque; echo b > dir/b
            echo x > gone/deep/x; echo old > opaque/old; echo shared > shared
            mount -t overlay overlay -o lowerdir=\(lower),upperdir=\(upper),workdir=\(work) \(merged)
            cd \(merged)
            rm a; echo changed > dir/b; rm -r gone; rm -r opaque; mkdir opaque; echo new > opaque/new
            ln -s ../keep dir/link; mkfifo fifo; echo n > new; ln new new-hard; chmod 4710 new
            chown 1000:1001 dir/b; echo t > tool; chmod 0640 keep
            """)
        var capability: [UInt8] = [0, 0, 0, 2, 0, 4, 0, 0] + [UInt8](repeating: 0, count: 12)
        #expect(setxattr(merged + "/tool", "security.capability", &capability, capability.count, 0) == 0)
        var value = Array("v\u{1}".utf8)
        #expect(setxattr(merged + "/dir/b", "user.note", &value, value.count, 0) == 0)
        let expected = try Self.describe(merged)
        #expect(expected.contains { $0.hasPrefix("tool ") && $0.contains("security.capability=0,0,0,2,0,4") })
        #expect(expected.contains { $0.hasPrefix("dir/b ") && $0.contains("1000:1001") && $0.contains("user.note=76,1") })
        #expect(expected.contains { $0.hasPrefix("new ") && $0.contains("104710") && $0.contains("links=2") })
        #expect(!expected.contains { $0.hasPrefix("gone") || $0.hasPrefix("a ") || $0.hasPrefix("opaque/old") })
        try Self.sh("umount \(merged)")

        let (bytes, entries) = try Self.archive(upper)
        #expect(entries > 0)
        var names: [String] = []
        var reader = TarReader(MemorySource(bytes))
        while let entry = try reader.next() { names.append(entry.path) }
        reader.close()
        #expect(names.contains(".wh.a"))
        #expect(names.contains(".wh.gone"))
        #expect(names.contains("opaque/.wh..wh..opq"))
        #expect(!names.contains { $0.contains("work") })

        let target = base + "/applied"
        try Self.sh("cp -a \(lower) \(target)")
        var applying = TarReader(MemorySource(bytes))
        defer { applying.close() }
        _ = try LayerApplier(root: target, mode: .apply).apply(&applying)
        #expect(try Self.describe(target) == expected)
    }

    @Test func sameChangesGiveTheSameBytesAndNoChangeGivesNoEntries() throws {
        let base = try Scratch.directory("overlay-diff-repro")
        defer { try? FileManager.default.removeItem(atPath: base) }
        try Self.sh("mkdir -p \(base)/upper/d \(base)/empty; echo 1 > \(base)/upper/d/f; touch -d 2001-01-01 \(base)/upper/d/f")
        let first = try Self.archive(base + "/upper", timestamp: 1_000_000)
        try Self.sh("touch \(base)/upper/d/f")
        let second = try Self.archive(base + "/upper", timestamp: 1_000_000)
        #expect(first.bytes == second.bytes)
        #expect(try Self.archive(base + "/upper").bytes != first.bytes)
        #expect(try Self.archive(base + "/empty").entries == 0)
    }
}
