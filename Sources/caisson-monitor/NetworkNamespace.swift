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

    private static func fail(_ what: String) -> Int32 {
        let message = "cannot \(what): \(Errno.describe(errno))\n"
        _ = try? Files.writeAll(fd: 2, bytes: Array(message.utf8))
        return 1
    }
}
