/// docker's multiplexed stream: each piece of output behind an 8-byte header (stream 0
/// stdin, 1 stdout, 2 stderr; three zero bytes; the length, big-endian). Streams of a
/// container with a terminal are sent bare.
enum StreamFraming {
    enum Stream: UInt8 {
        case stdin = 0
        case stdout = 1
        case stderr = 2
    }

    static func frame(_ stream: Stream, _ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [stream.rawValue, 0, 0, 0, UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff),
                UInt8(length & 0xff)] + payload
    }

    /// The bytes for one piece of output: framed, or bare for a terminal.
    static func output(_ stream: Stream, _ payload: [UInt8], tty: Bool) -> [UInt8] {
        tty ? payload : frame(stream, payload)
    }

    /// The content type docker gives attach and exec streams: raw for a terminal (and
    /// before API 1.42), multiplexed otherwise.
    static func contentType(tty: Bool, version: APIVersion?) -> String {
        if tty { return "application/vnd.docker.raw-stream" }
        if let version, version < APIVersion(major: 1, minor: 42) { return "application/vnd.docker.raw-stream" }
        return "application/vnd.docker.multiplexed-stream"
    }
}

/// docker's detach keys (`ctrl-p,ctrl-q` by default for attach; `detachKeys` in the
/// query, `DetachKeys` for exec): typed on an attached stdin, they end the attachment
/// and leave the container running. `DetachKeys.Matcher` watches the input for them.
struct DetachKeys: Equatable, Sendable {
    let sequence: [UInt8]

    static let standard = DetachKeys(sequence: [0x10, 0x11])

    /// `ctrl-<key>` or single characters, comma-separated; 400 for anything else.
    init(parsing text: String) throws(DockerAPIError) {
        var sequence: [UInt8] = []
        for key in text.split(separator: ",", omittingEmptySubsequences: false) {
            let lower = key.lowercased()
            if lower.hasPrefix("ctrl-"), lower.count == 6, let character = lower.utf8.last {
                switch character {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): sequence.append(character - UInt8(ascii: "a") + 1)
                case UInt8(ascii: "@"): sequence.append(0)
                case UInt8(ascii: "["): sequence.append(27)
                case UInt8(ascii: "\\"): sequence.append(28)
                case UInt8(ascii: "]"): sequence.append(29)
                case UInt8(ascii: "^"): sequence.append(30)
                case UInt8(ascii: "_"): sequence.append(31)
                default: throw .badParameter("Invalid detach keys (\(text)) provided")
                }
            } else if key.utf8.count == 1 {
                sequence.append(key.utf8.first!)
            } else {
                throw .badParameter("Invalid detach keys (\(text)) provided")
            }
        }
        guard !sequence.isEmpty else { throw .badParameter("Invalid detach keys (\(text)) provided") }
        self.sequence = sequence
    }

    init(sequence: [UInt8]) { self.sequence = sequence }

    /// Passes input through, holding back what may be the start of the sequence.
    struct Matcher {
        let keys: DetachKeys
        private var held: [UInt8] = []

        init(_ keys: DetachKeys) { self.keys = keys }

        /// The bytes to forward, and whether the whole sequence was typed (the bytes
        /// before it are forwarded; it and what follows are not).
        mutating func feed(_ input: [UInt8]) -> (forward: [UInt8], detach: Bool) {
            var forward: [UInt8] = []
            for byte in input {
                if byte == keys.sequence[held.count] {
                    held.append(byte)
                    if held.count == keys.sequence.count { return (forward, true) }
                } else {
                    forward += held
                    held = []
                    if byte == keys.sequence[0] { held.append(byte) } else { forward.append(byte) }
                    if held.count == keys.sequence.count { return (forward, true) }
                }
            }
            return (forward, false)
        }
    }
}
