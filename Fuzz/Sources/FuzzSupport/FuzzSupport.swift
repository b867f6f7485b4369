#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import CFuzzDriver

/// What every fuzz target shares: the input as bytes, a failed property reported as a
/// crash (so libFuzzer keeps the input), and scratch directories.
///
/// This module exists only for the fuzz targets under Fuzz/ (built by scripts/fuzz).
public enum Fuzz {
    /// One test input: libFuzzer's callback.
    public typealias Body = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// The executable's entry point: hands the command line to libFuzzer.
    public static func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ body: Body) -> CInt {
        var count = argc
        var arguments = argv
        return LLVMFuzzerRunDriver(&count, &arguments, body)
    }

    /// The input as an array (the parsers take `[UInt8]`).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// A broken contract: print why and abort, which libFuzzer records as a crash.
    public static func fail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
        let text = "fuzz property failed at \(file):\(line): \(message)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        abort()
    }

    public static func check(_ condition: Bool, _ message: @autoclosure () -> String,
                             file: StaticString = #fileID, line: UInt = #line) {
        if !condition { fail(message(), file: file, line: line) }
    }

    /// A fresh, empty directory for one input (under $TMPDIR or /tmp, unique per process
    /// and call); `removeScratch` deletes it.
    public static func makeScratch(_ name: String) -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        counter += 1
        let path = "\(base)/caisson-fuzz-\(name)-\(getpid())-\(counter)"
        try? Files.removeTree(path)
        do { try Files.makeDirectories(path, mode: 0o700) } catch { fail("scratch directory \(path): \(error)") }
        return path
    }

    public static func removeScratch(_ path: String) {
        do { try Files.removeTree(path) } catch { fail("cannot remove scratch \(path): \(error)") }
    }

    /// Entries of a directory, sorted (for "nothing else was written here" checks).
    public static func entries(_ path: String) -> [String] {
        ((try? Files.listDirectory(path)) ?? []).sorted()
    }

    nonisolated(unsafe) private static var counter = 0
}
