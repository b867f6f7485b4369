import FuzzSupport
import LayerArchive

/// `TarReader` on raw bytes (ustar, PAX, GNU long names): entries or an `ArchiveError`,
/// never a crash. What was read is written again with `TarWriter` and must read back
/// the same (names, kinds, sizes, link targets, contents).
@_cdecl("fuzz_tar_main")
public func fuzzTarMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzTar)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let first = read(Fuzz.bytes(data, size))
    guard !first.isEmpty else { return 0 }
    var writer = TarWriter(MemorySink())
    do {
        for (entry, content) in first {
            try writer.writeHeader(entry)
            if entry.kind == .file { try writer.writeContent(content) }
        }
        try writer.finish()
    } catch {
        Fuzz.fail("writing back what was read failed: \(error)")
    }
    let second = read(writer.sink.bytes)
    Fuzz.check(second.count == first.count, "wrote \(first.count) entries, read back \(second.count)")
    for ((a, contentA), (b, contentB)) in zip(first, second) {
        Fuzz.check(trimmed(a.path) == trimmed(b.path), "path \(a.path) came back as \(b.path)")
        Fuzz.check(a.kind == b.kind, "\(a.path): kind \(a.kind) came back as \(b.kind)")
        Fuzz.check(a.size == b.size && contentA == contentB, "\(a.path): content changed")
        Fuzz.check(a.kind == .file || a.kind == .directory || a.linkTarget == b.linkTarget,
                   "\(a.path): link target \(a.linkTarget) came back as \(b.linkTarget)")
    }
    return 0
}

private func trimmed(_ path: String) -> Substring {
    var path = Substring(path)
    while path.hasSuffix("/") { path = path.dropLast() }
    return path
}

/// Every entry with its content; an empty list when the archive is rejected.
private func read(_ bytes: [UInt8]) -> [(TarEntry, [UInt8])] {
    var reader = TarReader(MemorySource(bytes))
    defer { reader.close() }
    var entries: [(TarEntry, [UInt8])] = []
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    defer { chunk.deallocate() }
    do {
        while let entry = try reader.next() {
            var content: [UInt8] = []
            while true {
                let n = try reader.readContent(into: chunk)
                if n == 0 { break }
                content += UnsafeRawBufferPointer(rebasing: chunk[0..<n])
            }
            entries.append((entry, content))
        }
    } catch {
        return []
    }
    return entries
}

/// Collects what a `TarWriter` writes.
struct MemorySink: ByteSink {
    var bytes: [UInt8] = []
    mutating func write(_ buffer: UnsafeRawBufferPointer) throws(ArchiveError) { bytes += buffer }
    mutating func finish() throws(ArchiveError) {}
}
