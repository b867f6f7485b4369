#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import Foundation

/// Signals turned into calls on a thread of their own: the handler only writes the
/// signal's number to a pipe (all a handler may safely do in a multithreaded process); a
/// thread reads it and calls `handle`, where any code may run. One per process.
enum SignalPipe {
    nonisolated(unsafe) private static var fds: [Int32] = [-1, -1]

    static func install(_ signals: [Int32], handle: @escaping @Sendable (Int32) -> Void) {
        guard fds[0] < 0, caisson_pipe2(&fds, O_CLOEXEC) == 0 else { return }
        let handler: @convention(c) (Int32) -> Void = { signal in
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(SignalPipe.fds[1], &byte, 1)
        }
        for signal in signals { Glibc.signal(signal, handler) }
        let readFD = fds[0]
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while read(readFD, &byte, 1) == 1 { handle(Int32(byte)) }
        }
    }
}
