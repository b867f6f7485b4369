/// Just enough of an ELF file to find a named section: the header's class and byte order,
/// the section headers and the section-name string table, read through `ImageFiles` (so
/// only the few bytes needed are read from a large binary).
struct ELFFile {
    struct Section {
        let name: String
        let address: UInt64
        let offset: UInt64
        let size: UInt64
    }

    let path: String
    let is64Bit: Bool
    let littleEndian: Bool
    let sections: [Section]

    static let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]

    /// nil when `path` is not an ELF file (or its headers are cut short).
    init?(_ files: some ImageFiles, path: String) {
        guard let header = files.read(path, offset: 0, count: 64), header.count >= 52, Array(header[0..<4]) == ELFFile.magic else {
            return nil
        }
        self.path = path
        let is64Bit = header[4] == 2
        self.is64Bit = is64Bit
        littleEndian = header[5] == 1
        let reader = ByteOrder(littleEndian: littleEndian)
        let sectionOffset = is64Bit ? reader.u64(header, 0x28) : UInt64(reader.u32(header, 0x20))
        let entrySize = Int(reader.u16(header, is64Bit ? 0x3A : 0x2E))
        let count = Int(reader.u16(header, is64Bit ? 0x3C : 0x30))
        let namesIndex = Int(reader.u16(header, is64Bit ? 0x3E : 0x32))
        guard count > 0, count < 4096, entrySize >= (is64Bit ? 64 : 40), namesIndex < count,
              let table = files.read(path, offset: Int(sectionOffset), count: entrySize * count), table.count == entrySize * count else {
            sections = []
            return
        }
        func field(_ index: Int) -> (name: UInt32, address: UInt64, offset: UInt64, size: UInt64) {
            let at = index * entrySize
            if is64Bit {
                return (reader.u32(table, at), reader.u64(table, at + 0x10), reader.u64(table, at + 0x18), reader.u64(table, at + 0x20))
            }
            return (reader.u32(table, at), UInt64(reader.u32(table, at + 0x0C)), UInt64(reader.u32(table, at + 0x10)), UInt64(reader.u32(table, at + 0x14)))
        }
        let namesSection = field(namesIndex)
        let names = files.read(path, offset: Int(namesSection.offset), count: Int(min(namesSection.size, 1 << 20))) ?? []
        sections = (0..<count).map { index in
            let entry = field(index)
            var end = Int(entry.name)
            while end < names.count && names[end] != 0 { end += 1 }
            let name = Int(entry.name) < names.count ? String(decoding: names[Int(entry.name)..<end], as: UTF8.self) : ""
            return Section(name: name, address: entry.address, offset: entry.offset, size: entry.size)
        }
    }

    func section(_ name: String) -> Section? { sections.first { $0.name == name } }

    /// The file offset of a virtual address, through the section that holds it.
    func fileOffset(ofAddress address: UInt64) -> UInt64? {
        for section in sections where section.address != 0 && address >= section.address && address < section.address + section.size {
            return section.offset + (address - section.address)
        }
        return nil
    }
}

/// Little- or big-endian integers from bytes.
struct ByteOrder {
    let littleEndian: Bool

    func u16(_ b: [UInt8], _ at: Int) -> UInt16 {
        guard at + 2 <= b.count else { return 0 }
        return littleEndian ? UInt16(b[at]) | UInt16(b[at + 1]) << 8 : UInt16(b[at]) << 8 | UInt16(b[at + 1])
    }

    func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        guard at + 4 <= b.count else { return 0 }
        let bytes = (0..<4).map { UInt32(b[at + $0]) }
        return littleEndian ? bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24
                            : bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]
    }

    func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
        let low = UInt64(u32(b, littleEndian ? at : at + 4)), high = UInt64(u32(b, littleEndian ? at + 4 : at))
        return low | high << 32
    }
}
