import Crypto

/// A content digest (`sha256:<64 hex>`), the identity of every blob, manifest and layer.
/// Kept as a type rather than a string so that an unchecked value never names a file.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Comparable {
    public enum Algorithm: String, Sendable {
        case sha256, sha512
        var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    /// Lower-case hex of the hash.
    public let encoded: String

    public init(parsing text: String) throws(ImageSpecError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw ImageSpecError.invalidDigest(text, "expected ALGORITHM:HEX")
        }
        guard let algorithm = Algorithm(rawValue: String(text[..<colon])) else {
            throw ImageSpecError.invalidDigest(text, "unsupported algorithm \"\(text[..<colon])\" (sha256 and sha512 are)")
        }
        let hex = String(text[text.index(after: colon)...])
        guard hex.utf8.count == algorithm.hexLength,
              hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw ImageSpecError.invalidDigest(text, "expected \(algorithm.hexLength) lower-case hex digits")
        }
        self.algorithm = algorithm
        self.encoded = hex
    }

    init(algorithm: Algorithm, encoded: String) {
        self.algorithm = algorithm
        self.encoded = encoded
    }

    public var description: String { "\(algorithm.rawValue):\(encoded)" }
    /// The first 12 hex digits, as docker shows image ids.
    public var shortID: String { String(encoded.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    /// The sha256 digest of some bytes.
    public static func sha256(of bytes: some Sequence<UInt8>) -> Digest {
        var hasher = DigestHasher(.sha256)
        hasher.update(Array(bytes))
        return hasher.finalize()
    }
}

extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try Digest(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Computes a digest incrementally, for content that streams (downloads, layers being unpacked).
public struct DigestHasher {
    private enum State {
        case sha256(SHA256)
        case sha512(SHA512)
    }
    private var state: State
    public let algorithm: Digest.Algorithm

    public init(_ algorithm: Digest.Algorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha256: state = .sha256(SHA256())
        case .sha512: state = .sha512(SHA512())
        }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .sha256(var hash):
            hash.update(bufferPointer: bytes)
            state = .sha256(hash)
        case .sha512(var hash):
            hash.update(bufferPointer: bytes)
            state = .sha512(hash)
        }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func finalize() -> Digest {
        let bytes: [UInt8]
        switch state {
        case .sha256(let hash): bytes = Array(hash.finalize())
        case .sha512(let hash): bytes = Array(hash.finalize())
        }
        return Digest(algorithm: algorithm, encoded: Hex.encode(bytes))
    }
}

/// Lower-case hexadecimal.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
