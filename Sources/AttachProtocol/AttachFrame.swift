/// The messages between a container's monitor and the `caisson` commands attached to it
/// (over the unix socket `attach.sock` in the container's directory). Each frame is one
/// type byte, a 4-byte big-endian length, and the payload.
///
/// Client to monitor: `hello` (first; whether the client sends stdin, and whether it
/// removes the container itself when it ends, as a foreground `run --rm` does), `stdin` data,
/// `stdinClosed`, `resize`. Monitor to client: `stdout`/`stderr` data, and `exit` with
/// the container's exit status, after which the monitor closes the connection.
public enum AttachFrame: Equatable, Sendable {
    case hello(wantsStdin: Bool, removesOnExit: Bool)
    case stdin([UInt8])
    case stdinClosed
    case resize(rows: UInt16, columns: UInt16)
    case stdout([UInt8])
    case stderr([UInt8])
    case exit(Int32)

    var type: UInt8 {
        switch self {
        case .hello: return 1
        case .stdin: return 2
        case .stdinClosed: return 3
        case .resize: return 4
        case .stdout: return 5
        case .stderr: return 6
        case .exit: return 7
        }
    }

    public func encoded() -> [UInt8] {
        let payload: [UInt8]
        switch self {
        case .hello(let wantsStdin, let removesOnExit): payload = [wantsStdin ? 1 : 0, removesOnExit ? 1 : 0]
        case .stdin(let data), .stdout(let data), .stderr(let data): payload = data
        case .stdinClosed: payload = []
        case .resize(let rows, let columns):
            payload = [UInt8(rows >> 8), UInt8(rows & 0xff), UInt8(columns >> 8), UInt8(columns & 0xff)]
        case .exit(let code):
            let value = UInt32(bitPattern: code)
            payload = [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
        }
        let length = UInt32(payload.count)
        return [type, UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
            + payload
    }
}

/// Splits a byte stream into frames.
public struct AttachFrameReader: Sendable {
    private var buffer: [UInt8] = []
    public static let maximumPayload = 1 << 20

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// The next complete frame; nil when more bytes are needed. Throws on garbage.
    public mutating func next() throws(AttachProtocolError) -> AttachFrame? {
        guard buffer.count >= 5 else { return nil }
        let length = Int(buffer[1]) << 24 | Int(buffer[2]) << 16 | Int(buffer[3]) << 8 | Int(buffer[4])
        guard length <= AttachFrameReader.maximumPayload else { throw AttachProtocolError(reason: "frame of \(length) bytes") }
        guard buffer.count >= 5 + length else { return nil }
        let payload = Array(buffer[5..<(5 + length)])
        let type = buffer[0]
        buffer.removeFirst(5 + length)
        switch type {
        case 1: return .hello(wantsStdin: payload.first == 1, removesOnExit: payload.count > 1 && payload[1] == 1)
        case 2: return .stdin(payload)
        case 3: return .stdinClosed
        case 4:
            guard payload.count == 4 else { throw AttachProtocolError(reason: "resize frame of \(payload.count) bytes") }
            return .resize(rows: UInt16(payload[0]) << 8 | UInt16(payload[1]), columns: UInt16(payload[2]) << 8 | UInt16(payload[3]))
        case 5: return .stdout(payload)
        case 6: return .stderr(payload)
        case 7:
            guard payload.count == 4 else { throw AttachProtocolError(reason: "exit frame of \(payload.count) bytes") }
            let value = UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3])
            return .exit(Int32(bitPattern: value))
        default:
            throw AttachProtocolError(reason: "unknown frame type \(type)")
        }
    }
}

public struct AttachProtocolError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { "attach protocol: \(reason)" }
}
