import ImageSpec
import LayerArchive
import Registry
import Testing

/// Inputs that crashed a parser, found while fuzzing it (by reading the parser beside its
/// fuzz target under Fuzz/, then confirmed by running the input through that target);
/// each must now give a typed error or a value.
@Suite struct TarFuzzRegressionTests {
    /// A ustar header block with a valid checksum.
    static func header(_ name: String, type: UInt8, size: Int = 0) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int) { for (i, byte) in text.utf8.enumerated() { block[offset + i] = byte } }
        put(name, 0)
        put("0000644", 100); put("0000000", 108); put("0000000", 116)
        put(String(size, radix: 8).padding(11), 124)
        put("00000000000", 136)
        block[156] = type
        put("ustar\u{0}00", 257)
        for i in 148..<156 { block[i] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(sum, radix: 8).leftPadded(6) + "\u{0} ", 148)
        return block
    }

    /// A PAX extended header (`x`) holding `records`, padded to whole blocks.
    static func pax(_ records: [(String, String)]) -> [UInt8] {
        var body: [UInt8] = []
        for (key, value) in records {
            let record = " \(key)=\(value)\n"
            var length = record.utf8.count + 1
            while String(length).utf8.count + record.utf8.count != length { length += 1 }
            body += Array("\(length)\(record)".utf8)
        }
        return rawPAX(body)
    }

    static func rawPAX(_ body: [UInt8]) -> [UInt8] {
        header("PaxHeader", type: UInt8(ascii: "x"), size: body.count) + body
            + [UInt8](repeating: 0, count: (512 - body.count % 512) % 512)
    }

    static func entries(_ bytes: [UInt8]) throws -> [TarEntry] {
        var reader = TarReader(MemorySource(bytes + [UInt8](repeating: 0, count: 1024)))
        defer { reader.close() }
        var entries: [TarEntry] = []
        while let entry = try reader.next() { entries.append(entry) }
        return entries
    }

    @Test("a PAX mtime without seconds (\".\", \"\", \".x\") leaves the header's time", arguments: [".", "", ".x", "5.-1"])
    func paxMtimeWithoutSeconds(_ mtime: String) throws {
        let entries = try TarFuzzRegressionTests.entries(
            TarFuzzRegressionTests.pax([("mtime", mtime)]) + TarFuzzRegressionTests.header("f", type: UInt8(ascii: "0")))
        #expect(entries.count == 1)
        #expect(entries[0].modificationTime == (mtime == "5.-1" ? 5 : 0))
        #expect(entries[0].modificationNanoseconds == 0)
    }

    @Test("an entry size that cannot be padded to a block is refused, for files and other entries",
          arguments: [UInt8(ascii: "0"), UInt8(ascii: "5"), UInt8(ascii: "2")])
    func hugeSize(_ type: UInt8) {
        #expect(throws: ArchiveError.self) {
            try TarFuzzRegressionTests.entries(
                TarFuzzRegressionTests.pax([("size", String(Int64.max))]) + TarFuzzRegressionTests.header("f", type: type))
        }
    }

    @Test("a PAX record length past the end of the header is malformed, however large")
    func paxLengthOverflow() {
        let body = Array("8 a=bcd\n\(Int.max) k=v\n".utf8)
        #expect(throws: ArchiveError.self) {
            try TarFuzzRegressionTests.entries(TarFuzzRegressionTests.rawPAX(body) + TarFuzzRegressionTests.header("f", type: UInt8(ascii: "0")))
        }
    }
}

@Suite struct TOMLFuzzRegressionTests {
    @Test("deeply nested arrays and inline tables are refused with the line, not a stack overflow",
          arguments: ["a = " + String(repeating: "[", count: 30_000), "a = " + String(repeating: "{b=", count: 15_000),
                      "a = " + String(repeating: "[", count: 65) + String(repeating: "]", count: 65)])
    func deepNesting(_ text: String) {
        #expect { try TOMLParser.parse(text) } throws: { "\($0)".contains("nest more than 64 levels") && "\($0)".contains("line 1") }
        #expect(throws: (any Error).self) { try RegistriesConf.parse(text) }
    }

    @Test("a table name or key of thousands of parts is refused (it took gigabytes)",
          arguments: ["[" + Array(repeating: "a", count: 20_000).joined(separator: ".") + "]",
                      Array(repeating: "k", count: 20_000).joined(separator: ".") + " = 1"])
    func longKeyPath(_ text: String) {
        #expect { try TOMLParser.parse(text) } throws: { "\($0)".contains("more than 64 parts") }
    }

    @Test("nesting and keys within the limits still parse")
    func withinLimits() throws {
        let nested = "a = " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try TOMLParser.parse(nested)["a"]?.array?.count == 1)
        let key = Array(repeating: "k", count: 64).joined(separator: ".") + " = 1"
        #expect(throws: Never.self) { try TOMLParser.parse(key) }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
    fileprivate func leftPadded(_ width: Int) -> String { padding(width) }
}
