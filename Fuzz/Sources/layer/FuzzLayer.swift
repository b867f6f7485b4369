#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import FuzzSupport
import LayerArchive

/// A layer as a registry or archive delivers it: plain, gzip or zstd (chosen by the
/// magic bytes, as `detectCompression` does), read by `TarReader` and written by
/// `LayerApplier` into a fresh directory, once with whiteouts applied and once in
/// overlay form. An `ArchiveError` is fine; a crash is not, and neither is anything
/// written outside the layer's root (checked beside and above it).
@_cdecl("fuzz_layer_main")
public func fuzzLayerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzLayer)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLayer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    for mode in [LayerApplier.WhiteoutMode.apply, .overlay] {
        let base = Fuzz.makeScratch("layer")
        let sandbox = base + "/sandbox"
        let root = sandbox + "/root"
        do {
            try Files.makeDirectories(root, mode: 0o755)
            try Files.makeDirectories(sandbox + "/outside", mode: 0o755)
            try Files.write(sandbox + "/outside/sentinel", bytes: Array("untouched".utf8))
        } catch {
            Fuzz.fail("scratch: \(error)")
        }
        apply(bytes, root: root, mode: mode)
        Fuzz.check(Fuzz.entries(base) == ["sandbox"], "layer wrote beside the sandbox: \(Fuzz.entries(base))")
        Fuzz.check(Fuzz.entries(sandbox) == ["outside", "root"], "layer wrote beside its root: \(Fuzz.entries(sandbox))")
        Fuzz.check(Fuzz.entries(sandbox + "/outside") == ["sentinel"], "layer wrote outside its root")
        Fuzz.check((try? Files.readBytes(sandbox + "/outside/sentinel")) == Array("untouched".utf8), "layer changed a file outside its root")
        var info = stat()
        Fuzz.check(lstat(root, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR, "the layer replaced its root directory")
        Fuzz.removeScratch(base)
    }
    return 0
}

private func apply(_ bytes: [UInt8], root: String, mode: LayerApplier.WhiteoutMode) {
    do {
        let applier = try LayerApplier(root: root, mode: mode)
        let source = Budget(MemorySource(bytes))
        if bytes.starts(with: [0x1f, 0x8b]) {
            var reader = TarReader(Budget(try GzipSource(source)))
            defer { reader.close() }
            _ = try applier.apply(&reader)
        } else if bytes.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) {
            var reader = TarReader(Budget(try ZstdSource(source)))
            defer { reader.close() }
            _ = try applier.apply(&reader)
        } else {
            var reader = TarReader(source)
            defer { reader.close() }
            _ = try applier.apply(&reader)
        }
    } catch {
        // A typed error is the contract for bad input.
    }
}

/// The harness's own limit on decompressed bytes (a small zstd frame may legitimately
/// expand to gigabytes; writing them to disk for every input would only slow fuzzing).
struct Budget<Inner: ByteSource>: ByteSource {
    var inner: Inner
    var left = 32 << 20
    init(_ inner: Inner) { self.inner = inner }
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        let n = try inner.read(into: buffer)
        left -= n
        if left < 0 { throw .corrupt("fuzz budget of decompressed bytes exceeded") }
        return n
    }
}
