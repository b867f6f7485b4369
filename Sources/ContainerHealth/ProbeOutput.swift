/// A probe's output as docker keeps it (its `limitedBuffer`): standard output and error
/// together, the first 4096 bytes only, and "..." after them when more was written.
public struct ProbeOutput: Sendable {
    /// docker's `maxOutputLen`.
    public static let limit = 4096

    public private(set) var bytes: [UInt8] = []
    public private(set) var truncated = false

    public init() {}

    public mutating func append(_ data: some Collection<UInt8>) {
        let room = Self.limit - bytes.count
        if room > 0 { bytes += data.prefix(room) }
        if data.count > max(room, 0) { truncated = true }
    }

    /// The text (invalid UTF-8 replaced, as Go's JSON encoding replaces it).
    public var text: String {
        String(decoding: bytes, as: UTF8.self) + (truncated ? "..." : "")
    }
}
