#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import ImageSpec
import LayerArchive

/// The archives ADD unpacks: tar, plain or compressed with gzip, zstd, bzip2 or xz, told
/// apart by their magic bytes. As docker decides, a file is an archive only when its
/// (decompressed) start is a tar header; anything else, unknown compressions included,
/// is copied as it is. gzip and zstd are decompressed here; bzip2 and xz, which no library
/// of ours reads, by Debian's `bzip2 -dc` and `xz -dc`, streamed through a pipe.
enum AddArchive {
    enum Compression: Equatable {
        case none, gzip, zstd, bzip2, xz

        /// The program that decompresses it, for those we do not decompress ourselves.
        var tool: String? {
            switch self {
            case .bzip2: return "bzip2"
            case .xz: return "xz"
            case .none, .gzip, .zstd: return nil
            }
        }

        var layerCompression: LayerCompression? {
            switch self {
            case .none: return LayerCompression.none
            case .gzip: return .gzip
            case .zstd: return .zstd
            case .bzip2, .xz: return nil
            }
        }
    }

    /// The compression a file's first bytes announce (`.none` for anything unrecognised).
    static func compression(of fd: Int32) -> Compression {
        var magic = [UInt8](repeating: 0, count: 6)
        let count = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 6, 0) }
        if count >= 2 && magic.starts(with: [0x1F, 0x8B]) { return .gzip }
        if count >= 4 && magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        if count >= 3 && magic.starts(with: [0x42, 0x5A, 0x68]) { return .bzip2 }  // "BZh"
        if count == 6 && magic == [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00] { return .xz }
        return .none
    }

    /// The compression of the tar archive at `path`, or nil when it is not one (a file ADD
    /// copies). A bzip2 or xz file needs its program even to be looked at.
    static func detect(_ path: String) throws(BuildError) -> Compression? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(SysError("open", path: path)) }
        defer { close(fd) }
        let compression = compression(of: fd)
        if let tool = compression.tool, Decompressor.locate(tool) == nil { throw Decompressor.missing(tool, path: path) }
        // Whatever cannot be read as a tar archive (a corrupt stream too) is copied.
        let detected = try? withTarStream(fd, path: path, compression, toEnd: false) { (reader) throws(ArchiveError) in
            (try? reader.next()) != nil ? compression : nil
        }
        return detected ?? nil
    }

    /// Unpacks the archive at `path` into `directory` (contained there, as layers are).
    static func unpack(_ path: String, _ compression: Compression, into directory: String) throws(BuildError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(SysError("open", path: path)) }
        defer { close(fd) }
        try withTarStream(fd, path: path, compression, toEnd: true) { (reader) throws(ArchiveError) in
            _ = try LayerApplier(root: directory, mode: .apply).apply(&reader)
        }
    }

    /// Runs `body` over the archive's tar stream. `toEnd`: the whole archive is read, so
    /// a decompressing program must then have exited cleanly.
    private static func withTarStream<T>(_ fd: Int32, path: String, _ compression: Compression, toEnd: Bool,
                                         _ body: (inout TarReader<Stream>) throws(ArchiveError) -> T) throws(BuildError) -> T {
        guard let tool = compression.tool else {
            do {
                var reader = TarReader(Stream.local(try decompressing(FileSource(fd: fd, path: path), compression.layerCompression ?? .none)))
                defer { reader.close() }
                return try body(&reader)
            } catch {
                throw .invalid("cannot unpack \(path): \(error)")
            }
        }
        let process = try Decompressor(tool: tool, input: fd, path: path)
        var reader = TarReader(Stream.program(FileSource(fd: process.output, path: "\(tool) -dc \(path)")))
        defer { reader.close() }
        let result: T
        do {
            result = try body(&reader)
        } catch {
            let reason = process.abandon()
            throw .invalid("cannot unpack \(path): \(error)" + (reason.isEmpty ? "" : " (\(reason))"))
        }
        if toEnd { try process.finish() } else { _ = process.abandon() }
        return result
    }

    /// A tar stream: decompressed here, or the output of a decompressing program.
    enum Stream: ByteSource {
        case local(DecompressedStream)
        case program(FileSource)

        mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
            switch self {
            case .local(var stream):
                let count = try stream.read(into: buffer)
                self = .local(stream)
                return count
            case .program(var pipe):
                return try pipe.read(into: buffer)
            }
        }
    }
}

/// `TOOL -dc` reading a file and writing to a pipe we read as it decompresses (never the
/// whole archive in memory or on disk). Started with posix_spawn, as the builder starts
/// every program.
struct Decompressor {
    let tool: String
    let path: String
    let pid: pid_t
    /// The read ends of the program's standard output and error.
    let output: Int32
    let errors: Int32

    /// The Debian package that installs each program.
    static let packages = ["bzip2": "bzip2", "xz": "xz-utils"]

    init(tool: String, input: Int32, path: String) throws(BuildError) {
        guard let program = Decompressor.locate(tool) else { throw Decompressor.missing(tool, path: path) }
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard caisson_pipe2(&out, O_CLOEXEC) == 0 else { throw .system(SysError("pipe")) }
        guard caisson_pipe2(&err, O_CLOEXEC) == 0 else {
            close(out[0]); close(out[1])
            throw .system(SysError("pipe"))
        }
        do {
            pid = try Spawn.start([program, "-dc"], Spawn.Options(stdin: input, stdout: out[1], stderr: err[1]))
        } catch {
            [out[0], out[1], err[0], err[1]].forEach { close($0) }
            throw .system(error)
        }
        close(out[1])
        close(err[1])
        self.tool = tool
        self.path = path
        output = out[0]
        errors = err[0]
    }

    static func missing(_ tool: String, path: String) -> BuildError {
        .invalid("cannot unpack \(path): it is \(tool)-compressed and the \(tool) program is not installed"
                 + " (Debian package \(packages[tool] ?? tool))")
    }

    /// `tool` in PATH (the usual directories without one).
    static func locate(_ tool: String) -> String? {
        let search = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in search.split(separator: ":") where access("\(directory)/\(tool)", X_OK) == 0 {
            return "\(directory)/\(tool)"
        }
        return nil
    }

    /// After the archive's end: reads what follows it (a tar's padding), waits for the
    /// program and fails with its message if it failed (a corrupt or truncated file).
    func finish() throws(BuildError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(output, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
        }
        let (status, said) = wait()
        if status != 0 {
            throw .invalid("cannot unpack \(path): \(tool) -dc failed" + (said.isEmpty ? " with exit status \(status)" : ": \(said)"))
        }
    }

    /// Stops reading (the program ends on SIGPIPE if it was still writing) and waits for
    /// it; returns what it said on its standard error.
    @discardableResult
    func abandon() -> String { wait().said }

    /// Closes our end of its output, waits for the program; its exit status and message.
    private func wait() -> (status: Int32, said: String) {
        close(output)
        let status = (try? Processes.waitForExit(pid)) ?? -1
        // The first line: bzip2 and xz say what went wrong there (and name themselves).
        let text = (try? Files.readAll(fd: errors)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let said = Text.trim(String(text.split(separator: "\n").first ?? ""))
        close(errors)
        return (status, said)
    }
}
