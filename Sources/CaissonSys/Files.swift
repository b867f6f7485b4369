#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and writes, directory creation and removal, without Foundation.
///
/// The runtime is on the start-up hot path and must not load Foundation, so it needs
/// its own small set of file operations with typed errors.
public enum Files {
    /// `count` bytes from /dev/urandom (zeros if it cannot be read): ids and names.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = read(fd, &bytes, count)
            close(fd)
        }
        return bytes
    }

    /// Reads a whole file as bytes.
    public static func readBytes(_ path: String) throws(SysError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SysError("open", path: path) }
        defer { close(fd) }
        return try readAll(fd: fd, path: path)
    }

    /// Reads all bytes until end of file from a descriptor.
    public static func readAll(fd: Int32, path: String = "") throws(SysError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SysError("read", path: path)
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Reads a whole file as UTF-8 text.
    public static func readString(_ path: String) throws(SysError) -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// Reads a small file (a cgroup or /proc value) and trims surrounding white space.
    public static func readTrimmed(_ path: String) throws(SysError) -> String {
        Text.trim(try readString(path))
    }

    /// Writes `bytes` to `path`, creating or truncating it.
    public static func write(_ path: String, bytes: [UInt8], mode: mode_t = 0o644,
                             flags: Int32 = O_WRONLY | O_CREAT | O_TRUNC) throws(SysError) {
        let fd = open(path, flags | O_CLOEXEC, mode)
        if fd < 0 { throw SysError("open", path: path) }
        defer { close(fd) }
        try writeAll(fd: fd, bytes: bytes, path: path)
    }

    /// Writes a string to a file.
    public static func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws(SysError) {
        try write(path, bytes: Array(text.utf8), mode: mode)
    }

    /// Writes a value to an existing kernel file (cgroup, /proc, /sys) in one write call,
    /// as those files require.
    public static func writeKernelFile(_ path: String, _ text: String) throws(SysError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw SysError("open", path: path) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = retryingOnInterrupt {
            Int32(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) })
        }
        if n < 0 { throw SysError("write \"\(text)\" to", path: path) }
    }

    /// Writes all bytes to a descriptor, retrying short writes.
    public static func writeAll(fd: Int32, bytes: [UInt8], path: String = "") throws(SysError) {
        var copy = bytes
        let count = copy.count
        try copy.withUnsafeMutableBufferPointer { (pointer) throws(SysError) in
            try writeAll(fd: fd, buffer: UnsafeRawBufferPointer(start: pointer.baseAddress, count: count), path: path)
        }
    }

    /// Writes a whole buffer to a descriptor, retrying short and interrupted writes.
    public static func writeAll(fd: Int32, buffer: UnsafeRawBufferPointer, path: String = "") throws(SysError) {
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SysError("write", path: path)
            }
            offset += n
        }
    }

    /// Atomically replaces `path` with `bytes`: write a temporary file (named for this
    /// process, so that concurrent writers do not share it), fsync-free rename.
    public static func writeAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o600) throws(SysError) {
        let temporary = path + ".tmp.\(getpid())"
        try write(temporary, bytes: bytes, mode: mode)
        if rename(temporary, path) != 0 {
            let error = SysError("rename", path: path)
            unlink(temporary)
            throw error
        }
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// One line (without its newline) read a byte at a time from a pipe or socket, so
    /// nothing after it is consumed; "" at end of file.
    public static func readLine(fd: Int32) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == 0x0a { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// lstat that returns nil when the path does not exist.
    public static func lstatIfExists(_ path: String) throws(SysError) -> stat? {
        var info = stat()
        if lstat(path, &info) == 0 { return info }
        if errno == ENOENT { return nil }
        throw SysError("lstat", path: path)
    }

    /// mkdir -p.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SysError) {
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        if errno != ENOENT { throw SysError("mkdir", path: path) }
        let parent = Paths.parent(path)
        if parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw SysError("mkdir", path: path) }
    }

    /// rm -rf that does not cross into other mounts' content it cannot remove.
    public static func removeTree(_ path: String) throws(SysError) {
        guard let info = try lstatIfExists(path) else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try listDirectory(path) {
                try removeTree(path + "/" + name)
            }
            if rmdir(path) != 0 && errno != ENOENT { throw SysError("rmdir", path: path) }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw SysError("unlink", path: path)
        }
    }

    /// Entry names in a directory, without "." and "..".
    public static func listDirectory(_ path: String) throws(SysError) -> [String] {
        try listDirectory(path, directoriesOnly: false)
    }

    /// Names of the subdirectories of a directory, from the entries' d_type (no stat per
    /// entry: cgroup directories hold dozens of files).
    public static func listSubdirectories(_ path: String) throws(SysError) -> [String] {
        try listDirectory(path, directoriesOnly: true)
    }

    private static func listDirectory(_ path: String, directoriesOnly: Bool) throws(SysError) -> [String] {
        guard let dir = opendir(path) else { throw SysError("opendir", path: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let type = entry.pointee.d_type
            if directoriesOnly && type != UInt8(DT_DIR) && type != UInt8(DT_UNKNOWN) { continue }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            if directoriesOnly && type == UInt8(DT_UNKNOWN) && !isDirectory(path + "/" + name) { continue }
            names.append(name)
        }
        return names
    }
}

/// Path string helpers (no normalisation beyond what the runtime needs).
public enum Paths {
    /// `%XX` escapes (of a URL's path or query) decoded; `+` as a space when `plusIsSpace`
    /// (form encoding).
    public static func percentDecoded(_ text: String, plusIsSpace: Bool = false) -> String {
        decodingEscapes(text, marker: UInt8(ascii: "%"), digits: 2, radix: 16, plusIsSpace: plusIsSpace)
    }

    /// mountinfo escapes spaces and friends as \040 etc.
    public static func unescapeMountPath(_ text: String) -> String {
        decodingEscapes(text, marker: UInt8(ascii: "\\"), digits: 3, radix: 8, plusIsSpace: false)
    }

    /// `marker` followed by `digits` digits in `radix` stands for that byte; a marker not
    /// followed by such digits stays as it is.
    private static func decodingEscapes(_ text: String, marker: UInt8, digits: Int, radix: Int, plusIsSpace: Bool) -> String {
        guard text.utf8.contains(where: { $0 == marker || (plusIsSpace && $0 == 0x2b) }) else { return text }
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == 0x2b && plusIsSpace {
                bytes.append(0x20)
            } else if byte == marker, input.count >= digits,
                      let value = UInt8(String(decoding: input.prefix(digits), as: UTF8.self), radix: radix) {
                bytes.append(value)
                input = input.dropFirst(digits)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func base(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Joins a root and a path that may be absolute, lexically.
    public static func join(_ root: String, _ path: String) -> String {
        if path.isEmpty { return root }
        let trimmedRoot = root.hasSuffix("/") ? String(root.dropLast()) : root
        return path.hasPrefix("/") ? trimmedRoot + path : trimmedRoot + "/" + path
    }

    /// Lexically cleans a path: collapses "//", removes "." and resolves ".." without
    /// going above the root.
    public static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Makes a path absolute against the current directory.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return clean(path) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return clean("/" + path) }
        let cwd = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return clean(cwd + "/" + path)
    }
}

/// Tiny string helpers the stdlib lacks without Foundation.
public enum Text {
    /// Trims ASCII white space (kernel files and JSON never carry other kinds), without
    /// touching the Unicode property tables.
    public static func trim(_ text: String) -> String {
        let bytes = text.utf8
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// ASCII upper-casing (signal and capability names).
    public static func asciiUppercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 }, as: UTF8.self)
    }

    /// ASCII lower-casing.
    public static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    public static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: true)
    }
}
