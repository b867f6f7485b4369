#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// Writes tar archives (ustar headers, PAX records for long names and large values) that
/// docker, podman and GNU tar read.
public struct TarWriter<Sink: ByteSink> {
    public private(set) var sink: Sink
    private var pendingPadding = 0
    private static var zeros: [UInt8] { [UInt8](repeating: 0, count: 1024) }

    public init(_ sink: Sink) { self.sink = sink }

    /// Writes a header; a regular file's `size` bytes must follow through `writeContent`.
    public mutating func writeHeader(_ entry: TarEntry) throws(ArchiveError) {
        try padPrevious()
        // PAX values are bytes: xattrs (security.capability, ...) need not be UTF-8.
        var pax: [(String, [UInt8])] = []
        var name = entry.path
        if entry.kind == .directory, !name.hasSuffix("/") { name += "/" }
        var prefix = ""
        if name.utf8.count > 100 {
            if let split = TarWriter.ustarSplit(name) {
                prefix = split.prefix
                name = split.name
            } else {
                pax.append(("path", Array((entry.path + (entry.kind == .directory && !entry.path.hasSuffix("/") ? "/" : "")).utf8)))
                name = String(decoding: Array(name.utf8.prefix(100)), as: UTF8.self)
            }
        }
        if entry.linkTarget.utf8.count > 100 { pax.append(("linkpath", Array(entry.linkTarget.utf8))) }
        if entry.size > 0o77777777777 { pax.append(("size", Array(String(entry.size).utf8))) }
        for (key, value) in entry.xattrs {
            pax.append(("SCHILY.xattr." + key, value))
        }
        if !pax.isEmpty {
            var body: [UInt8] = []
            for (key, value) in pax {
                // "LENGTH KEY=VALUE\n", LENGTH counting itself.
                let record = [UInt8(ascii: " ")] + Array(key.utf8) + [UInt8(ascii: "=")] + value + [UInt8(ascii: "\n")]
                var length = record.count + 1
                while String(length).utf8.count + record.count > length { length += 1 }
                body += Array(String(length).utf8) + record
            }
            var header = TarWriter.header(name: "PaxHeaders/" + String(Paths.base(entry.path).prefix(80)), prefix: "",
                                          type: UInt8(ascii: "x"), size: Int64(body.count), entry: entry)
            TarWriter.sealChecksum(&header)
            try sink.write(header)
            try sink.write(body)
            pendingPadding = (512 - body.count % 512) % 512
            try padPrevious()
        }
        let type: UInt8
        switch entry.kind {
        case .file: type = UInt8(ascii: "0")
        case .hardLink: type = UInt8(ascii: "1")
        case .symbolicLink: type = UInt8(ascii: "2")
        case .characterDevice: type = UInt8(ascii: "3")
        case .blockDevice: type = UInt8(ascii: "4")
        case .directory: type = UInt8(ascii: "5")
        case .fifo: type = UInt8(ascii: "6")
        }
        var header = TarWriter.header(name: name, prefix: prefix, type: type,
                                      size: entry.kind == .file ? entry.size : 0, entry: entry)
        TarWriter.sealChecksum(&header)
        try sink.write(header)
        if entry.kind == .file { pendingPadding = Int((512 - entry.size % 512) % 512) }
    }

    public mutating func writeContent(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        try sink.write(bytes)
    }

    public mutating func writeContent(_ bytes: [UInt8]) throws(ArchiveError) {
        try sink.write(bytes)
    }

    /// A regular file from memory.
    public mutating func writeFile(_ path: String, _ bytes: [UInt8], mode: UInt32 = 0o644,
                                   modificationTime: Int64 = 0) throws(ArchiveError) {
        try writeHeader(TarEntry(path: path, kind: .file, size: Int64(bytes.count), mode: mode, uid: 0, gid: 0,
                                 modificationTime: modificationTime, linkTarget: "", deviceMajor: 0, deviceMinor: 0))
        try sink.write(bytes)
    }

    /// Pads the last entry and writes the end-of-archive marker, then finishes the sink.
    public mutating func finish() throws(ArchiveError) {
        try padPrevious()
        try sink.write(TarWriter.zeros)
        try sink.finish()
    }

    private mutating func padPrevious() throws(ArchiveError) {
        if pendingPadding > 0 {
            try sink.write(Array(TarWriter.zeros.prefix(pendingPadding)))
            pendingPadding = 0
        }
    }

    static func ustarSplit(_ path: String) -> (prefix: String, name: String)? {
        let bytes = Array(path.utf8)
        guard bytes.count <= 256 else { return nil }
        for index in stride(from: min(bytes.count - 1, 155), through: 1, by: -1) where bytes[index] == UInt8(ascii: "/") {
            let name = bytes[(index + 1)...]
            if name.count <= 100, !name.isEmpty {
                return (String(decoding: bytes[..<index], as: UTF8.self), String(decoding: name, as: UTF8.self))
            }
        }
        return nil
    }

    static func header(name: String, prefix: String, type: UInt8, size: Int64, entry: TarEntry) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int, _ length: Int) {
            for (i, byte) in text.utf8.prefix(length).enumerated() { header[offset + i] = byte }
        }
        func octal(_ value: Int64, _ offset: Int, _ length: Int) {
            var digits = String(max(value, 0), radix: 8)
            if digits.utf8.count > length - 1 { digits = String(repeating: "7", count: length - 1) }
            put(String(repeating: "0", count: length - 1 - digits.utf8.count) + digits, offset, length - 1)
        }
        put(name, 0, 100)
        octal(Int64(entry.mode & 0o7777), 100, 8)
        octal(Int64(entry.uid), 108, 8)
        octal(Int64(entry.gid), 116, 8)
        octal(size, 124, 12)
        octal(entry.modificationTime, 136, 12)
        header[156] = type
        put(entry.linkTarget, 157, 100)
        put("ustar\u{0}00", 257, 8)
        octal(Int64(entry.deviceMajor), 329, 8)
        octal(Int64(entry.deviceMinor), 337, 8)
        put(prefix, 345, 155)
        return header
    }

    static func sealChecksum(_ header: inout [UInt8]) {
        for i in 148..<156 { header[i] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        let text = String(repeating: "0", count: 6 - digits.utf8.count) + digits
        for (i, byte) in text.utf8.enumerated() { header[148 + i] = byte }
        header[154] = 0
        header[155] = UInt8(ascii: " ")
    }
}
