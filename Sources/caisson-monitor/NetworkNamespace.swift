#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// `caisson-monitor netns-create PATH`: a new network namespace kept alive by a bind
/// mount at PATH (as `ip netns add` does), with its loopback interface up. Done here because unshare of a namespace
/// needs a single-threaded process, and the CLI is not one.
enum NetworkNamespace {
    static func create(at path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard fd >= 0 else { return fail("create \(path)") }
        close(fd)
        guard caisson_unshare(0x4000_0000 /* CLONE_NEWNET */) == 0 else {
            unlink(path)
            return fail("unshare the network namespace")
        }
        guard mount("/proc/self/ns/net", path, "none", UInt(MS_BIND), nil) == 0 else {
            unlink(path)
            return fail("bind the network namespace to \(path)")
        }
        // lo up here saves running the CNI loopback plugin for every container.
        guard caisson_loopback_up() == 0 else {
            umount2(path, Int32(MNT_DETACH))
            unlink(path)
            return fail("bring up lo in the network namespace")
        }
        return 0
    }

    /// `caisson-monitor netns-connect NSPATH PORT`: connects to 127.0.0.1:PORT inside the
    /// network namespace NSPATH and hands the connected socket over the unix socket at fd 3
    /// (SCM_RIGHTS). The daemon's port forwarding uses it: a multithreaded daemon must not
    /// move one of its own threads into another namespace.
    static func connect(namespace path: String, port text: String) -> Int32 {
        guard let port = UInt16(text), port > 0 else { return fail("connect: invalid port \(text)") }
        let namespace = open(path, O_RDONLY | O_CLOEXEC)
        guard namespace >= 0 else { return fail("open \(path)") }
        guard caisson_setns(namespace, 0x4000_0000 /* CLONE_NEWNET */) == 0 else { return fail("enter the network namespace \(path)") }
        close(namespace)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return fail("create a socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return fail("connect to port \(port) in the pod") }
        var byte: UInt8 = 0
        guard caisson_send_fd(3, fd, &byte, 1) >= 0 else { return fail("pass the connection back") }
        return 0
    }

    private static func fail(_ what: String) -> Int32 {
        let message = "cannot \(what): \(Errno.describe(errno))\n"
        _ = try? Files.writeAll(fd: 2, bytes: Array(message.utf8))
        return 1
    }
}
