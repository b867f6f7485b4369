#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import SPDY

/// SPDY/3.1 frames as a streaming client sends them (client-go's spdystream): the bytes
/// are what the connection delivered; every whole frame is decoded (zlib header blocks
/// through one inflater, as on a connection) into a frame or an `SPDYError`. Frames
/// the server writes back (data, replies, resets, pings) must decode to what was written.
@_cdecl("fuzz_spdy_main")
public func fuzzSPDYMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzSPDY)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSPDY(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let framer: SPDYFramer
    do { framer = try SPDYFramer(fd: -1, pending: Fuzz.bytes(data, size)) } catch { Fuzz.fail("\(error)") }
    var frames: [SPDYFrame] = []
    while frames.count < 10_000 {
        guard let frame = try? framer.next() else { break }
        frames.append(frame)
    }
    echo(frames)
    return 0
}

/// Writes the frames the server can send through one framer into a socket and reads
/// them with a second.
private func echo(_ frames: [SPDYFrame]) {
    var written: [SPDYFrame] = []
    var pair: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else { Fuzz.fail("socketpair") }
    defer { close(pair[0]); close(pair[1]) }
    // Nobody reads while the frames are written: keep them well inside the socket buffer
    // (each small write costs about a kilobyte of it).
    var size: CInt = 8 << 20
    _ = setsockopt(pair[0], SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<CInt>.size))
    _ = setsockopt(pair[1], SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<CInt>.size))
    var budget = 1 << 16
    do {
        let writer = try SPDYFramer(fd: pair[0], pending: [])
        for frame in frames.prefix(256) {
            switch frame {
            case .data(let stream, let bytes, let fin):
                guard budget > bytes.count + 64 else { continue }
                budget -= bytes.count + 64
                try writer.writeData(streamID: stream, bytes: bytes, fin: fin)
                written.append(.data(streamID: stream, bytes: bytes, fin: fin))
            case .synReply(let stream), .synStream(let stream, _, _):
                guard budget > 64 else { continue }
                budget -= 64
                try writer.writeSynReply(streamID: stream)
                written.append(.synReply(streamID: stream))
            case .rstStream(let stream, let status):
                guard budget > 64 else { continue }
                budget -= 64
                try writer.writeRstStream(streamID: stream, status: status)
                written.append(frame)
            case .ping(let id):
                guard budget > 64 else { continue }
                budget -= 64
                try writer.writePing(id: id)
                written.append(frame)
            case .goAway, .ignored:
                continue
            }
        }
        shutdown(pair[0], Int32(SHUT_WR))
        let reader = try SPDYFramer(fd: pair[1], pending: [])
        var read: [SPDYFrame] = []
        while true {
            if let frame = try reader.next() { read.append(frame); continue }
            if !reader.fill() { break }
        }
        Fuzz.check(read == written, "frames written \(written.count), read back differently: \(read.count)")
    } catch {
        Fuzz.fail("echo: \(error)")
    }
}
