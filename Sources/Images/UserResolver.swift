#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// Resolves an image's `User` (`name`, `uid`, `uid:gid`, `name:group`) through the
/// image's own /etc/passwd and /etc/group, read with openat2(RESOLVE_IN_ROOT) so that an
/// image whose /etc/passwd is a symlink to a host file cannot make us read the host's.
public struct UserResolver {
    public struct Resolved: Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public var additionalGids: [UInt32]
        public var home: String?

        /// The groups a process of this user gets: its primary group first, then those
        /// /etc/group lists it in, as dockerd and containerd set them (since the fixes for
        /// CVE-2023-25173 and its moby counterpart) so that `id` shows the primary group.
        public var processGroups: [UInt32] { [gid] + additionalGids }
    }

    let rootfs: String

    public init(rootfs: String) { self.rootfs = rootfs }

    func readInRoot(_ path: String) -> String? {
        let rootFD = open(rootfs, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return nil }
        defer { close(rootFD) }
        let fd = caisson_openat2(rootFD, path, 0, 0x10 | 0x02)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 16 << 20 else { return nil }
        return try? Files.readString("/proc/self/fd/\(fd)")
    }

    public enum ExecutableStatus { case executable, notExecutable, missing }

    /// Whether `path` (absolute inside the root) is an executable file, following
    /// symlinks inside the root only.
    public func executableStatus(_ path: String) -> ExecutableStatus {
        let rootFD = open(rootfs, CAISSON_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return .missing }
        defer { close(rootFD) }
        let fd = caisson_openat2(rootFD, String(path.drop(while: { $0 == "/" })), 0, 0x10 | 0x02)
        guard fd >= 0 else { return .missing }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .missing }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_mode & 0o111 != 0 else { return .notExecutable }
        return .executable
    }

    /// Lines of a colon-separated database.
    func entries(_ path: String) -> [[Substring]] {
        guard let text = readInRoot(path) else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: ":", omittingEmptySubsequences: false) }
    }

    /// A group by number, or by name from the image's /etc/group (`--group-add`).
    public func resolveGroup(_ group: String) throws(ImageError) -> UInt32 {
        if let number = UInt32(group) { return number }
        guard let entry = entries("etc/group").first(where: { $0.count >= 3 && $0[0] == group }), let number = UInt32(entry[2]) else {
            throw .invalid("unable to find group \(group): no matching entries in group file")
        }
        return number
    }

    public func resolve(_ spec: String) throws(ImageError) -> Resolved {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0].isEmpty ? "0" : parts[0]
        let passwd = entries("etc/passwd")
        var uid: UInt32
        var gid: UInt32 = 0
        var name: String?
        var home: String?
        if let number = UInt32(userPart) {
            uid = number
            if let entry = passwd.first(where: { $0.count >= 4 && UInt32($0[2]) == number }) {
                gid = UInt32(entry[3]) ?? 0
                name = String(entry[0])
                home = entry.count >= 6 ? String(entry[5]) : nil
            }
        } else {
            guard let entry = passwd.first(where: { $0.count >= 4 && $0[0] == userPart }),
                  let number = UInt32(entry[2]) else {
                throw .invalid("unable to find user \(userPart): no matching entries in passwd file")
            }
            uid = number
            gid = UInt32(entry[3]) ?? 0
            name = userPart
            home = entry.count >= 6 ? String(entry[5]) : nil
        }
        let groups = entries("etc/group")
        if parts.count == 2, !parts[1].isEmpty {
            if let number = UInt32(parts[1]) {
                gid = number
            } else {
                guard let entry = groups.first(where: { $0.count >= 3 && $0[0] == parts[1] }), let number = UInt32(entry[2]) else {
                    throw .invalid("unable to find group \(parts[1]): no matching entries in group file")
                }
                gid = number
            }
        }
        var additional: [UInt32] = []
        if let name, parts.count == 1 {
            for entry in groups where entry.count >= 4 {
                let members = entry[3].split(separator: ",")
                if members.contains(Substring(name)), let number = UInt32(entry[2]), number != gid, !additional.contains(number) {
                    additional.append(number)
                }
            }
        }
        return Resolved(uid: uid, gid: gid, additionalGids: additional, home: home)
    }
}
