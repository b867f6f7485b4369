#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import CRIProto
import SPDY

/// One port-forward connection (`portforward.k8s.io` over SPDY): for every forwarded
/// connection the client opens an error stream and a data stream with the same
/// `requestid` and a `port`; the data stream is joined to a TCP connection to that port
/// inside the pod (through `caisson-monitor netns-connect`), or on the host for pods on
/// the host network.
final class PortForwardSession {
    let manager: PodManager
    let framer: SPDYFramer

    private final class Pair {
        var errorStream: UInt32?
        var dataStream: UInt32?
        var port: UInt16 = 0
        var socket: Int32 = -1
        var clientClosed = false
        var targetClosed = false
    }

    private var pairs: [String: Pair] = [:]
    private var streamPairs: [UInt32: String] = [:]

    init(manager: PodManager, framer: SPDYFramer) {
        self.manager = manager
        self.framer = framer
    }

    func run(_ request: Runtime_V1_PortForwardRequest) {
        guard let sandbox = try? manager.store.sandbox(request.podSandboxID).record else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var running = true
        while running {
            let active = pairs.filter { $0.value.socket >= 0 && !$0.value.targetClosed }
            var fds = [pollfd(fd: framer.fd, events: Int16(POLLIN), revents: 0)]
            let keys = Array(active.keys)
            for key in keys { fds.append(pollfd(fd: active[key]!.socket, events: Int16(POLLIN), revents: 0)) }
            let ready = framer.hasBufferedFrame ? 1 : poll(&fds, nfds_t(fds.count), 1000)
            if ready < 0 && errno != EINTR { break }
            if framer.hasBufferedFrame || fds[0].revents != 0 {
                if !framer.hasBufferedFrame && !framer.fill() { break }
                while true {
                    let frame: SPDYFrame?
                    do { frame = try framer.next() } catch { running = false; break }
                    guard let frame else { break }
                    if !handle(frame, sandbox: sandbox, request: request) { running = false; break }
                }
            }
            for (index, key) in keys.enumerated() where fds[index + 1].revents != 0 {
                guard let pair = pairs[key], let data = pair.dataStream else { continue }
                let n = read(pair.socket, &buffer, buffer.count)
                if n > 0 {
                    try? framer.writeData(streamID: data, bytes: Array(buffer[0..<n]))
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    pair.targetClosed = true
                    try? framer.writeData(streamID: data, bytes: [], fin: true)
                    if let error = pair.errorStream { try? framer.writeData(streamID: error, bytes: [], fin: true) }
                    finishIfDone(key)
                }
            }
        }
        for pair in pairs.values where pair.socket >= 0 { close(pair.socket) }
    }

    private func handle(_ frame: SPDYFrame, sandbox: SandboxRecord, request: Runtime_V1_PortForwardRequest) -> Bool {
        switch frame {
        case .synStream(let id, let headers, _):
            try? framer.writeSynReply(streamID: id)
            let key = headers["requestid"] ?? String(id)
            let pair = pairs[key] ?? Pair()
            pairs[key] = pair
            streamPairs[id] = key
            if let port = headers["port"].flatMap({ UInt16($0) }) { pair.port = port }
            if headers["streamtype"] == "error" { pair.errorStream = id } else { pair.dataStream = id }
            if pair.dataStream != nil, pair.errorStream != nil, pair.socket < 0 {
                connect(pair, sandbox: sandbox, request: request)
            }
        case .data(let id, let bytes, let fin):
            guard let key = streamPairs[id], let pair = pairs[key], id == pair.dataStream else { return true }
            if !bytes.isEmpty, pair.socket >= 0 { try? Files.writeAll(fd: pair.socket, bytes: bytes) }
            if fin {
                pair.clientClosed = true
                if pair.socket >= 0 { shutdown(pair.socket, Int32(SHUT_WR)) }
                finishIfDone(key)
            }
        case .rstStream(let id, _):
            if let key = streamPairs[id], let pair = pairs[key] {
                pair.clientClosed = true
                pair.targetClosed = true
                finishIfDone(key)
            }
        case .ping(let id):
            try? framer.writePing(id: id)
        case .goAway:
            return false
        case .synReply, .ignored:
            break
        }
        return true
    }

    private func finishIfDone(_ key: String) {
        guard let pair = pairs[key], pair.clientClosed, pair.targetClosed else { return }
        if pair.socket >= 0 { close(pair.socket) }
        pair.socket = -1
        pairs[key] = nil
        streamPairs = streamPairs.filter { $0.value != key }
    }

    private func connect(_ pair: Pair, sandbox: SandboxRecord, request: Runtime_V1_PortForwardRequest) {
        let failure: String?
        if !request.port.isEmpty && !request.port.contains(Int32(pair.port)) {
            failure = "port \(pair.port) is not among the ports this forward was granted for"
        } else if pair.port == 0 {
            failure = "no port given"
        } else {
            do {
                pair.socket = try PortForwardSession.open(port: pair.port, sandbox: sandbox, manager: manager)
                failure = nil
            } catch {
                failure = error.description
            }
        }
        if let failure, let error = pair.errorStream {
            let message = "error forwarding port \(pair.port) to pod \(sandbox.id): \(failure)"
            try? framer.writeData(streamID: error, bytes: Array(message.utf8), fin: true)
            if let data = pair.dataStream { try? framer.writeData(streamID: data, bytes: [], fin: true) }
            pair.targetClosed = true
        }
    }

    /// A TCP connection to 127.0.0.1:port in the pod's network namespace.
    static func open(port: UInt16, sandbox: SandboxRecord, manager: PodManager) throws(CRIError) -> Int32 {
        if sandbox.hostNetwork {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .failed("socket: \(SysError("socket"))") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                let error = SysError("connect to 127.0.0.1:\(port)")
                close(fd)
                throw .failed("\(error)")
            }
            return fd
        }
        guard let netns = sandbox.netnsPath else { throw .failed("the pod has no network namespace") }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .failed("socketpair: \(SysError("socketpair"))")
        }
        defer { close(pair[0]) }
        let null = Glibc.open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        var errors: [Int32] = [-1, -1]
        guard caisson_pipe2(&errors, O_CLOEXEC) == 0 else { close(pair[1]); throw .failed("pipe: \(SysError("pipe"))") }
        var options = Spawn.Options(stdin: null, stdout: null, stderr: errors[1])
        options.inherit = [(pair[1], 3)]
        let pid: pid_t
        do {
            pid = try Spawn.start([manager.options.monitorPath, "netns-connect", netns, String(port)], options)
        } catch {
            close(pair[1]); close(errors[0]); close(errors[1])
            throw .failed("cannot run the namespace helper: \(error)")
        }
        close(pair[1])
        close(errors[1])
        defer { close(errors[0]) }
        var byte: UInt8 = 0
        var fd: Int32 = -1
        _ = caisson_recv_fd(pair[0], &byte, 1, &fd)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard fd >= 0 else {
            var text = [UInt8](repeating: 0, count: 1024)
            let n = read(errors[0], &text, text.count)
            throw .failed(n > 0 ? String(decoding: text[0..<n], as: UTF8.self).trimmingCharacters(in: "\n") : "connection refused")
        }
        _ = caisson_fcntl_int(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }
}
