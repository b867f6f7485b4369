import NIOCore

/// The reading side of one API connection: bytes as they arrive from the channel, with
/// what has been received but not yet used kept for the next request, or for the stream
/// a hijacking handler takes over.
final class ConnectionReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private(set) var buffered: [UInt8] = []
    private var finished = false

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) {
        iterator = inbound.makeAsyncIterator()
    }

    /// Reads more from the peer; false at end of input.
    private func fill() async throws -> Bool {
        guard !finished else { return false }
        guard var buffer = try await iterator.next() else {
            finished = true
            return false
        }
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { buffered += bytes }
        return true
    }

    /// The next request's head; nil when the peer closed between requests.
    func readHead() async throws -> HTTPRequestHead? {
        var searchFrom = 0
        while true {
            if let end = HTTPHeadBoundary.find(in: buffered, from: searchFrom) {
                guard end.headEnd <= HTTPRequestHead.maximumSize else { throw HTTPParseError.headTooLarge }
                let head = try HTTPRequestHead.parse(buffered[..<end.headEnd])
                buffered.removeFirst(end.bodyStart)
                return head
            }
            if buffered.count > HTTPRequestHead.maximumSize { throw HTTPParseError.headTooLarge }
            searchFrom = max(0, buffered.count - 3)
            guard try await fill() else {
                if buffered.allSatisfy({ $0 == 0x0d || $0 == 0x0a }) { return nil }
                throw HTTPParseError.malformed("the connection closed in the middle of a request")
            }
        }
    }

    /// Passes the body to `sink` in pieces as it arrives.
    func readBody(_ framing: HTTPRequestHead.BodyFraming, into sink: (ArraySlice<UInt8>) throws -> Void) async throws {
        switch framing {
        case .none:
            return
        case .length(let length):
            try await read(length, into: sink)
        case .chunked:
            while true {
                let line = try await readLine()
                let sizeText = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces() } ?? ""
                guard !sizeText.isEmpty, sizeText.count <= 15, let size = Int(sizeText, radix: 16), size >= 0 else {
                    throw HTTPParseError.malformed("bad chunk size")
                }
                if size == 0 {
                    // Trailer fields, up to the blank line.
                    while !(try await readLine()).isEmpty {}
                    return
                }
                try await read(size, into: sink)
                guard try await readLine().isEmpty else { throw HTTPParseError.malformed("no line end after a chunk") }
            }
        }
    }

    /// Exactly `length` bytes of the body, to `sink` as they come.
    private func read(_ length: Int, into sink: (ArraySlice<UInt8>) throws -> Void) async throws {
        var remaining = length
        while remaining > 0 {
            if buffered.isEmpty, !(try await fill()) { throw HTTPParseError.malformed("the body ended early") }
            let count = min(remaining, buffered.count)
            try sink(buffered[..<count])
            buffered.removeFirst(count)
            remaining -= count
        }
    }

    /// One CR LF (or LF) terminated line of a chunked body.
    private func readLine() async throws -> String {
        while true {
            if let newline = buffered.firstIndex(of: 0x0a) {
                var line = buffered[..<newline]
                if line.last == 0x0d { line = line.dropLast() }
                let text = String(decoding: line, as: UTF8.self)
                buffered.removeFirst(newline + 1)
                return text
            }
            guard buffered.count < 4096 else { throw HTTPParseError.malformed("a chunk line is too long") }
            guard try await fill() else { throw HTTPParseError.malformed("the body ended early") }
        }
    }

    /// After a hijack: what the peer sent next, in order (first what is already
    /// buffered); nil at end of input (the client closed its writing side).
    func readRaw() async throws -> [UInt8]? {
        if !buffered.isEmpty {
            defer { buffered = [] }
            return buffered
        }
        guard try await fill() else { return nil }
        defer { buffered = [] }
        return buffered
    }
}

/// Where a request head ends: the first empty line.
package enum HTTPHeadBoundary {
    /// The end of the head (before the blank line) and the start of the body.
    package static func find(in bytes: [UInt8], from start: Int) -> (headEnd: Int, bodyStart: Int)? {
        var index = start
        // Skip leading empty lines (RFC 9112 2.2) so they are not taken for the end.
        if index == 0 {
            while index < bytes.count, bytes[index] == 0x0d || bytes[index] == 0x0a { index += 1 }
        }
        while index < bytes.count {
            if bytes[index] == 0x0a {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0a { return (index, index + 2) }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0d, bytes[index + 2] == 0x0a { return (index, index + 3) }
            }
            index += 1
        }
        return nil
    }
}
