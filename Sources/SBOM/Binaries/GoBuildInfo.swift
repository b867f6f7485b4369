/// The build information the Go linker embeds in every Go executable (Go 1.13+): the
/// toolchain version and the module list `go version -m` prints. Found in the
/// `.go.buildinfo` section, or by its magic in a binary without section headers; both
/// the inline format (Go 1.18+) and the older one that points at Go strings elsewhere in
/// the binary are read.
struct GoBuildInfo: Equatable {
    struct Module: Equatable {
        var path: String
        var version: String
        /// A `=>` line: what the module was replaced by.
        var replacement: (path: String, version: String)?

        static func == (a: Module, b: Module) -> Bool {
            a.path == b.path && a.version == b.version && a.replacement?.path == b.replacement?.path
                && a.replacement?.version == b.replacement?.version
        }
    }

    var goVersion: String
    var mainPath: String?
    var main: Module?
    var dependencies: [Module]

    static let magic: [UInt8] = [0xFF] + Array(" Go buildinf:".utf8)

    static func read(_ files: some ImageFiles, path: String, size: Int) -> GoBuildInfo? {
        let elf = ELFFile(files, path: path)
        var start: Int?
        if let section = elf?.section(".go.buildinfo") {
            start = Int(section.offset)
        } else if elf != nil {
            start = scanForMagic(files, path: path, size: size)
        }
        guard let start, let header = files.read(path, offset: start, count: 32), header.count == 32,
              Array(header[0..<14]) == magic else { return nil }
        let pointerSize = Int(header[14])
        let flags = header[15]
        let versionText: String, modinfo: String
        if flags & 0x2 != 0 {
            // Inline: two varint-prefixed strings after the 32-byte header.
            guard let data = files.read(path, offset: start + 32, count: 1 << 20) else { return nil }
            var cursor = 0
            guard let version = varintString(data, &cursor), let info = varintString(data, &cursor) else { return nil }
            versionText = version
            modinfo = info
        } else {
            guard let elf, pointerSize == 4 || pointerSize == 8 else { return nil }
            let order = ByteOrder(littleEndian: flags & 0x1 == 0)
            func pointer(_ bytes: [UInt8], _ at: Int) -> UInt64 {
                pointerSize == 8 ? order.u64(bytes, at) : UInt64(order.u32(bytes, at))
            }
            func goString(at address: UInt64) -> String? {
                guard let offset = elf.fileOffset(ofAddress: address),
                      let headerBytes = files.read(path, offset: Int(offset), count: 2 * pointerSize),
                      headerBytes.count == 2 * pointerSize else { return nil }
                let data = pointer(headerBytes, 0), length = pointer(headerBytes, pointerSize)
                guard length < 1 << 20, let dataOffset = elf.fileOffset(ofAddress: data),
                      let bytes = files.read(path, offset: Int(dataOffset), count: Int(length)) else { return nil }
                return String(decoding: bytes, as: UTF8.self)
            }
            guard let version = goString(at: pointer(header, 16)), let info = goString(at: pointer(header, 16 + pointerSize)) else {
                return nil
            }
            versionText = version
            modinfo = info
        }
        guard versionText.hasPrefix("go") else { return nil }
        return parse(goVersion: versionText, modinfo: modinfo)
    }

    static func varintString(_ data: [UInt8], _ cursor: inout Int) -> String? {
        var length = 0, shift = 0
        while cursor < data.count {
            let byte = data[cursor]
            cursor += 1
            length |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
            if shift > 28 { return nil }
        }
        guard length >= 0, cursor + length <= data.count else { return nil }
        defer { cursor += length }
        return String(decoding: data[cursor..<(cursor + length)], as: UTF8.self)
    }

    /// The magic sits on a 16-byte boundary in the data segment: search the file.
    static func scanForMagic(_ files: some ImageFiles, path: String, size: Int) -> Int? {
        let chunk = 1 << 20
        var offset = 0
        while offset < min(size, 256 << 20) {
            guard let bytes = files.read(path, offset: offset, count: chunk + 16), !bytes.isEmpty else { return nil }
            var index = 0
            while index + magic.count <= bytes.count && index < chunk {
                if bytes[index] == 0xFF && Array(bytes[index..<(index + magic.count)]) == magic { return offset + index }
                index += 16
            }
            offset += chunk
        }
        return nil
    }

    /// The module text between its 16-byte sentinels: `path`, `mod`, `dep` and `=>` lines.
    static func parse(goVersion: String, modinfo: String) -> GoBuildInfo {
        var bytes = Array(modinfo.utf8)
        if bytes.count >= 33 && bytes[bytes.count - 17] == 0x0A {
            bytes = Array(bytes[16..<(bytes.count - 16)])
        }
        var info = GoBuildInfo(goVersion: goVersion, dependencies: [])
        var last: WritableKeyPath<GoBuildInfo, Module?>?
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let kind = fields.first else { continue }
            switch kind {
            case "path" where fields.count >= 2:
                info.mainPath = fields[1]
            case "mod" where fields.count >= 3:
                info.main = Module(path: fields[1], version: fields[2])
                last = \.main
            case "dep" where fields.count >= 3:
                info.dependencies.append(Module(path: fields[1], version: fields[2]))
                last = nil
            case "=>" where fields.count >= 3:
                if last != nil {
                    info.main?.replacement = (fields[1], fields[2])
                } else if !info.dependencies.isEmpty {
                    info.dependencies[info.dependencies.count - 1].replacement = (fields[1], fields[2])
                }
            default:
                continue
            }
        }
        return info
    }
}
