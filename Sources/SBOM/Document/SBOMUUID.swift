import CaissonSys

/// A random (version 4) UUID, RFC 9562: CycloneDX's `serialNumber` ("urn:uuid:...")
/// and the unique part of SPDX's `documentNamespace`.
public struct SBOMUUID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// The version and variant bits of `randomBytes` (16 of them) are set as version 4
    /// requires; the other 122 bits are kept.
    public init(randomBytes: [UInt8]) {
        precondition(randomBytes.count == 16, "a UUID is 16 bytes, not \(randomBytes.count)")
        var bytes = randomBytes
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        self.bytes = bytes
    }

    public static func random() -> SBOMUUID { SBOMUUID(randomBytes: Files.randomBytes(16)) }

    /// Lowercase, 8-4-4-4-12.
    public var description: String {
        let hex = Array("0123456789abcdef")
        var text = ""
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) { text.append("-") }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return text
    }
}
