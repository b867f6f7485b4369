import NIOCore

/// A connection taken over by attach or exec: what the client sends (its stdin) and the
/// channel written to directly (the container's output). Reading is for one task; the
/// writes may come from a thread of the relay's own (`writeBlocking`), so a client that
/// does not read holds that thread, never the event loop or a cooperative thread.
public final class HijackedStream: @unchecked Sendable {
    private let channel: Channel
    private let reader: ConnectionReader

    init(channel: Channel, reader: ConnectionReader) {
        self.channel = channel
        self.reader = reader
    }

    /// The client's next bytes; nil when it closed its writing side (or the connection).
    public func read() async throws -> [UInt8]? {
        try await reader.readRaw()
    }

    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// From a thread that is not the event loop: waits until the bytes are written.
    public func writeBlocking(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try channel.writeAndFlush(ByteBuffer(bytes: bytes)).wait()
    }

    /// False once the connection has closed.
    public var isActive: Bool { channel.isActive }

    /// Ends the connection (the client's read sees end of file; its reads of stdin stop).
    public func close() {
        channel.close(promise: nil)
    }
}
