#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import Cgroups
import OCISpec

/// Builds the container's filesystem view inside its new mount namespace: the rootfs
/// bind, the config's mounts, /dev, then pivot_root, and afterwards masked and
/// read-only paths. Runs in the container's init process, before the user's program.
struct RootFilesystem {
    let spec: Spec
    let rootfs: String
    let bundle: String
    let cgroup: Cgroup?
    let inUserNamespace: Bool
    let newCgroupNamespace: Bool
    /// Bind sources opened by the runtime (mount index -> O_PATH fd); see LaunchDescriptors.
    var bindSources: [Int: Int32] = [:]

    private func mount(_ source: String?, _ target: String, _ type: String?, _ flags: UInt, _ data: String?,
                       describe: @autoclosure () -> String) throws(SysError) {
        let result: Int32
        if let data, !data.isEmpty {
            result = Glibc.mount(source ?? "", target, type ?? "", flags, data)
        } else {
            result = Glibc.mount(source ?? "", target, type ?? "", flags, nil)
        }
        if result != 0 { throw SysError("mount \(describe())") }
    }

    /// Makes the host's mounts invisible to propagation and binds the rootfs onto itself,
    /// so it is a mount point that pivot_root accepts.
    func prepare() throws(SysError) {
        // Private or slave propagation can be set on / now; shared and unbindable are set
        // on the new root after pivot_root (an unbindable rootfs could not be bound).
        var rootFlags = MountFlag.slave | MountFlag.recursive
        var shared = false
        if let name = spec.linux?.rootfsPropagation, let flags = MountOptions.propagation(named: name) {
            if flags & MountFlag.unbindable == 0 { rootFlags = flags }
            shared = flags & MountFlag.shared != 0
        }
        try mount(nil, "/", nil, rootFlags, nil, describe: "propagation of /")
        if shared {
            // Shared mounts stay peers of the host's (so bidirectional mounts propagate
            // back), but the mount holding the rootfs must be private: pivot_root refuses a
            // shared parent, and the rootfs bind below must not propagate to the host.
            let parent = RootFilesystem.mountPoint(containing: rootfs)
            try mount(nil, parent, nil, MountFlag.private, nil, describe: "propagation of \(parent)")
        }
        try mount(rootfs, rootfs, nil, MountFlag.bind | MountFlag.recursive, nil, describe: "rootfs \(rootfs) onto itself")
    }

    /// Mounts every entry of config.json's `mounts`, in order.
    func mountAll(root: RootedPath) throws(RuntimeError) {
        for (index, entry) in (spec.mounts ?? []).enumerated() {
            do {
                try mountEntry(entry, index: index, root: root)
            } catch let error as MountOptions.ParseError {
                throw .config(ConfigError(file: "config.json", "mounts[\(index)]: \(error)"))
            } catch let error as SysError {
                throw .system(error)
            } catch {
                throw .wrap(error)
            }
        }
    }

    private func mountEntry(_ entry: Mount, index: Int, root: RootedPath) throws {
        let options = try MountOptions(entry.options ?? [])
        let destination = Paths.clean(entry.destination)
        try mountOne(entry, index: index, options: options, destination: destination, root: root)
        if options.hasRecursiveAttributes {
            try setRecursiveAttributes(options, destination: destination, root: root)
        }
    }

    /// rro, rnosuid, ...: mount_setattr(AT_RECURSIVE) on the new mount and all below it.
    private func setRecursiveAttributes(_ options: MountOptions, destination: String, root: RootedPath) throws {
        guard let mounted = try root.open(destination) else {
            throw SysError("open the mount for its recursive attributes", path: Paths.join(rootfs, destination), errno: ENOENT)
        }
        defer { close(mounted) }
        let flags: UInt32 = 0x1000 /* AT_EMPTY_PATH */ | 0x8000 /* AT_RECURSIVE */
        if caisson_mount_setattr(mounted, "", flags, options.recursiveSet, options.recursiveClear) != 0 {
            let code = errno
            if code == ENOSYS {
                throw ConfigError(file: "config.json", "mount \(destination): recursive mount options (rro, rnosuid, ...) need mount_setattr, which this kernel lacks (Linux 5.12 or later)")
            }
            throw SysError("mount_setattr (recursive attributes) on \(destination)", errno: code)
        }
    }

    private func mountOne(_ entry: Mount, index: Int, options: MountOptions, destination: String, root: RootedPath) throws {
        let type = entry.type ?? ""
        if options.isBind || type == "bind" {
            try bindMount(entry, opened: bindSources[index], options: options, destination: destination, root: root)
            return
        }
        if type == "cgroup" || type == "cgroup2" {
            try mountCgroups(destination: destination, options: options, root: root)
            return
        }
        let target = try root.openOrCreate(destination, as: .directory)
        defer { close(target) }
        let targetPath = RootedPath.procPath(target)
        let data = options.data.joined(separator: ",")
        // Keep a handle on what the image has there before the new mount hides it.
        var lower: Int32 = -1
        if options.copyUp {
            guard type == "tmpfs" else {
                throw ConfigError(file: "config.json", "mount \(destination): tmpcopyup needs a tmpfs mount")
            }
            lower = open(targetPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if lower < 0 { throw SysError("open", path: Paths.join(rootfs, destination)) }
        }
        defer { if lower >= 0 { close(lower) } }
        // A read-only /dev is mounted writable and made read-only in finish(), once the
        // mounts below it, the devices and the console are in place (as runc orders it).
        var flags = options.flags
        if destination == "/dev" { flags &= ~MountFlag.readOnly }
        do {
            try mount(entry.source ?? type, targetPath, type, flags, data,
                      describe: "\(type) on \(destination)")
        } catch {
            // sysfs needs a network namespace of our own; without one, bind the host's.
            guard type == "sysfs", error.errno == EPERM || error.errno == EBUSY else { throw error }
            try mount("/sys", targetPath, nil, MountFlag.bind | MountFlag.recursive, nil, describe: "/sys (bind) on \(destination)")
            try remountResolved(destination, root: root, flags: options.remountFlags)
        }
        if lower >= 0, let mounted = try root.open(destination) {
            defer { close(mounted) }
            let upper = open(RootedPath.procPath(mounted), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if upper < 0 { throw SysError("open", path: Paths.join(rootfs, destination)) }
            defer { close(upper) }
            try TreeCopy.copyContents(of: lower, into: upper, describing: Paths.join(rootfs, destination))
        }
        try applyPropagation(options.propagation, destination: destination, root: root)
    }

    /// Propagation changes apply to the mount now at `destination` (resolved again: the
    /// descriptor used to mount still names the directory underneath).
    private func applyPropagation(_ changes: [UInt], destination: String, root: RootedPath) throws(SysError) {
        guard !changes.isEmpty, let mounted = try root.open(destination) else { return }
        defer { close(mounted) }
        for propagation in changes {
            try mount(nil, RootedPath.procPath(mounted), nil, propagation, nil, describe: "propagation of \(destination)")
        }
    }

    private func bindMount(_ entry: Mount, opened: Int32?, options: MountOptions, destination: String,
                           root: RootedPath) throws {
        guard let rawSource = entry.source, !rawSource.isEmpty else {
            throw ConfigError(file: "config.json", "mount \(destination): a bind mount needs a source")
        }
        let source = rawSource.hasPrefix("/") ? rawSource : Paths.join(bundle, rawSource)
        var info = stat()
        if let opened {
            if fstat(opened, &info) != 0 { throw SysError("bind mount source", path: source) }
        } else if stat(source, &info) != 0 {
            throw SysError("bind mount source", path: source)
        }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        let target = try root.openOrCreate(destination, as: isDirectory ? .directory : .file)
        defer { close(target) }
        let targetPath = RootedPath.procPath(target)
        var flags = MountFlag.bind
        if options.isRecursiveBind { flags |= MountFlag.recursive }
        if let opened {
            // The runtime's detached copy of the source: attach it here.
            let attached = caisson_move_mount(opened, "", target, "", 0x4 /* F_EMPTY_PATH */ | 0x40 /* T_EMPTY_PATH */)
            if attached != 0 { throw SysError("attach \(source) (bind) on \(destination)") }
        } else {
            try mount(source, targetPath, nil, flags, nil, describe: "\(source) (bind) on \(destination)")
        }
        if options.remountFlags != 0 {
            try remountResolved(destination, root: root, flags: options.remountFlags)
        }
        try applyPropagation(options.propagation, destination: destination, root: root)
    }

    /// Remounts what is now mounted at `destination`. The descriptor used for the mount
    /// itself still names the directory underneath, so the path is resolved again.
    func remountResolved(_ destination: String, root: RootedPath, flags: UInt) throws(SysError) {
        guard let mounted = try root.open(destination) else {
            throw SysError("resolve in root", path: Paths.join(rootfs, destination), errno: ENOENT)
        }
        defer { close(mounted) }
        try remountBind(RootedPath.procPath(mounted), flags: flags, describe: destination)
    }

    /// Applies per-mount flags to a bind mount, keeping flags the kernel locks when the
    /// mount came from a more privileged namespace.
    func remountBind(_ path: String, flags: UInt, describe: String) throws(SysError) {
        do {
            try mount(nil, path, nil, MountFlag.bind | MountFlag.remount | flags, nil, describe: "remount of \(describe)")
        } catch {
            guard error.errno == EPERM else { throw error }
            var info = statvfs()
            guard statvfs(path, &info) == 0 else { throw error }
            let locked = UInt(info.f_flag) & (MountFlag.noSuid | MountFlag.noDev | MountFlag.noExec | MountFlag.readOnly
                                              | MountFlag.noAtime | MountFlag.noDirAtime | MountFlag.relatime)
            try mount(nil, path, nil, MountFlag.bind | MountFlag.remount | flags | locked, nil, describe: "remount of \(describe)")
        }
    }

    /// The container's view of its cgroups: cgroup2 in its own cgroup namespace, or a
    /// tmpfs holding a bind of the container's directory in each hierarchy.
    private func mountCgroups(destination: String, options: MountOptions, root: RootedPath) throws {
        guard let cgroup else { return }
        let target = try root.openOrCreate(destination, as: .directory)
        defer { close(target) }
        let targetPath = RootedPath.procPath(target)
        if cgroup.layout.mode == .unified {
            if newCgroupNamespace {
                try mount("cgroup2", targetPath, "cgroup2", options.flags, nil, describe: "cgroup2 on \(destination)")
            } else {
                try mount(cgroup.paths[0].directory, targetPath, nil, MountFlag.bind, nil, describe: "cgroup on \(destination)")
                try remountResolved(destination, root: root, flags: options.remountFlags)
            }
            return
        }
        let baseFlags = options.flags & (MountFlag.noSuid | MountFlag.noDev | MountFlag.noExec)
        try mount("tmpfs", targetPath, "tmpfs", baseFlags, "mode=755", describe: "tmpfs on \(destination)")
        for (hierarchy, directory) in cgroup.paths {
            let name = Paths.base(hierarchy.mountPoint)
            let sub = try root.openOrCreate(destination + "/" + name, as: .directory)
            defer { close(sub) }
            let subPath = RootedPath.procPath(sub)
            try mount(directory, subPath, nil, MountFlag.bind, nil, describe: "cgroup \(name) on \(destination)/\(name)")
            try remountResolved(destination + "/" + name, root: root, flags: options.remountFlags | baseFlags)
            // Co-mounted hierarchies (cpu,cpuacct) are also reachable by each name.
            if name.contains(",") {
                for alias in name.split(separator: ",") {
                    let link = Paths.join(rootfs, destination + "/" + alias)
                    _ = symlink(name, link)
                }
            }
        }
        if options.flags & MountFlag.readOnly != 0, let mounted = try root.open(destination) {
            defer { close(mounted) }
            try mount(nil, RootedPath.procPath(mounted), nil, MountFlag.remount | MountFlag.readOnly | baseFlags, "mode=755",
                      describe: "read-only remount of \(destination)")
        }
    }

    // MARK: /dev

    struct DefaultDevice {
        let path: String
        let major: UInt32
        let minor: UInt32
    }

    static let defaultDevices = [
        DefaultDevice(path: "/dev/null", major: 1, minor: 3),
        DefaultDevice(path: "/dev/zero", major: 1, minor: 5),
        DefaultDevice(path: "/dev/full", major: 1, minor: 7),
        DefaultDevice(path: "/dev/random", major: 1, minor: 8),
        DefaultDevice(path: "/dev/urandom", major: 1, minor: 9),
        DefaultDevice(path: "/dev/tty", major: 5, minor: 0),
    ]

    /// Whether the config gives the container its own /dev (then we populate it).
    var ownsDev: Bool {
        (spec.mounts ?? []).contains { Paths.clean($0.destination) == "/dev" && !((try? MountOptions($0.options ?? []))?.isBind ?? true) }
    }

    /// Creates the standard device nodes, the config's devices, and the /dev symlinks.
    func populateDev(root: RootedPath) throws(RuntimeError) {
        do {
            if ownsDev {
                for device in RootFilesystem.defaultDevices {
                    try makeDevice(path: device.path, type: "c", major: device.major, minor: device.minor,
                                   mode: 0o666, uid: 0, gid: 0, root: root)
                }
            }
            for device in spec.linux?.devices ?? [] {
                try makeDevice(path: device.path, type: device.type, major: UInt32(device.major ?? 0),
                               minor: UInt32(device.minor ?? 0), mode: device.fileMode ?? 0o666,
                               uid: device.uid ?? 0, gid: device.gid ?? 0, root: root)
            }
            if ownsDev {
                let links = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
                             ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr")]
                var allLinks = links
                if Files.exists("/proc/kcore") { allLinks.append(("/proc/kcore", "/dev/core")) }
                if (spec.mounts ?? []).contains(where: { Paths.clean($0.destination) == "/dev/pts" }) {
                    allLinks.append(("pts/ptmx", "/dev/ptmx"))
                }
                guard let dev = try root.open("/dev") else { return }
                defer { close(dev) }
                for (target, link) in allLinks {
                    let name = Paths.base(link)
                    if symlinkat(target, dev, name) != 0 && errno != EEXIST {
                        throw SysError("symlink", path: Paths.join(rootfs, link))
                    }
                }
            }
        } catch let error as SysError {
            throw .system(error)
        } catch {
            throw .wrap(error)
        }
    }

    private func makeDevice(path: String, type: String, major: UInt32, minor: UInt32, mode: UInt32,
                            uid: UInt32, gid: UInt32, root: RootedPath) throws(SysError) {
        let parentFD = try root.openOrCreate(Paths.parent(path), as: .directory)
        defer { close(parentFD) }
        let name = Paths.base(path)
        if inUserNamespace {
            // mknod is not allowed in a user namespace: bind the host's node instead.
            let target = try root.openOrCreate(path, as: .file)
            defer { close(target) }
            try mount(path, RootedPath.procPath(target), nil, MountFlag.bind, nil, describe: "\(path) (bind)")
            return
        }
        let kind: mode_t
        switch type {
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: kind = S_IFCHR
        }
        let device = caisson_makedev(major, minor)
        _ = unlinkat(parentFD, name, 0)
        // Reach the resolved parent through /proc so no path component is looked up again.
        let parentPath = RootedPath.procPath(parentFD)
        if mknod(parentPath + "/" + name, kind | mode_t(mode & 0o7777), __dev_t(device)) != 0 {
            throw SysError("mknod", path: Paths.join(rootfs, path))
        }
        if chmod(parentPath + "/" + name, mode_t(mode & 0o7777)) != 0 {
            throw SysError("chmod", path: Paths.join(rootfs, path))
        }
        if lchown(parentPath + "/" + name, uid, gid) != 0 {
            throw SysError("chown", path: Paths.join(rootfs, path))
        }
    }

    /// The mount point (from /proc/self/mountinfo) whose mount holds `path`: the longest
    /// mount point that is `path` or one of its parents.
    static func mountPoint(containing path: String) -> String {
        guard let text = try? Files.readString("/proc/self/mountinfo") else { return "/" }
        var best = "/"
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let point = Paths.unescapeMountPath(String(fields[4]))
            if (path == point || path.hasPrefix(point == "/" ? "/" : point + "/")) && point.count > best.count { best = point }
        }
        return best
    }

    // MARK: pivot_root

    /// Without pivot_root the host's mounts stay in the container's mount namespace,
    /// under the chroot. A full proc or sysfs mount there would let a container with
    /// CAP_SYS_ADMIN in a user namespace mount a new proc or sysfs (the kernel permits it
    /// where such a mount is already fully visible). As runc does, unmount every full
    /// proc and sysfs mount outside the rootfs (or cover it with a tmpfs where unmounting
    /// is refused), with propagation to the host cut first.
    private func hideHostProcAndSysfs() throws(SysError) {
        guard let text = try? Files.readString("/proc/self/mountinfo") else { return }
        var points: [String] = []
        for line in text.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ")
            let fsType = halves[1].split(separator: " ").first.map(String.init) ?? ""
            guard fields.count > 4, fields[3] == "/", fsType == "proc" || fsType == "sysfs" else { continue }
            let point = Paths.unescapeMountPath(String(fields[4]))
            if point == rootfs || point.hasPrefix(rootfs + "/") { continue }
            points.append(point)
        }
        for point in points {
            do {
                try mount(nil, point, nil, MountFlag.slave | MountFlag.recursive, nil, describe: "propagation of \(point)")
            } catch {
                // A parent already gone took this one with it.
                if error.errno == ENOENT { continue }
                throw error
            }
            if umount2(point, Int32(MNT_DETACH)) != 0 {
                guard errno == EINVAL || errno == EPERM else { throw SysError("unmount the host's \(point)") }
                try mount("tmpfs", point, "tmpfs", 0, nil, describe: "tmpfs over the host's \(point)")
            }
        }
    }

    /// Makes the rootfs the process's root and detaches the host's tree.
    func pivot(noPivot: Bool) throws(SysError) {
        if noPivot {
            try hideHostProcAndSysfs()
            if chdir(rootfs) != 0 { throw SysError("chdir", path: rootfs) }
            try mount(rootfs, "/", nil, MountFlag.move, nil, describe: "move of rootfs to /")
            if chroot(".") != 0 { throw SysError("chroot", path: rootfs) }
            if chdir("/") != 0 { throw SysError("chdir /") }
            return
        }
        let oldRoot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        if oldRoot < 0 { throw SysError("open /") }
        defer { close(oldRoot) }
        let newRoot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        if newRoot < 0 { throw SysError("open rootfs", path: rootfs) }
        defer { close(newRoot) }
        if fchdir(newRoot) != 0 { throw SysError("chdir", path: rootfs) }
        if caisson_pivot_root(".", ".") != 0 { throw SysError("pivot_root", path: rootfs) }
        // The old root is now stacked under ".": make it private to us, then drop it.
        if fchdir(oldRoot) != 0 { throw SysError("chdir to old root") }
        try mount(nil, ".", nil, MountFlag.slave | MountFlag.recursive, nil, describe: "propagation of the old root")
        if umount2(".", Int32(MNT_DETACH)) != 0 { throw SysError("unmount the old root") }
        if chdir("/") != 0 { throw SysError("chdir /") }
    }

    // MARK: After pivot_root

    func writeSysctls() throws(SysError) {
        for (key, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/")
            guard !key.isEmpty, !key.contains("..") else {
                throw SysError("sysctl \"\(key)\" is not a valid name", errno: EINVAL)
            }
            do {
                try Files.writeKernelFile(path, value)
            } catch {
                throw SysError("set sysctl \(key)=\(value)", errno: error.errno)
            }
        }
    }

    func maskPaths() throws(SysError) {
        for path in spec.linux?.maskedPaths ?? [] {
            var info = stat()
            if stat(path, &info) != 0 {
                if errno == ENOENT { continue }
                throw SysError("stat masked path", path: path)
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                try mount("tmpfs", path, "tmpfs", MountFlag.readOnly, "size=0k,nr_inodes=1", describe: "tmpfs mask on \(path)")
            } else {
                try mount("/dev/null", path, nil, MountFlag.bind, nil, describe: "/dev/null mask on \(path)")
            }
        }
    }

    func makeReadonlyPaths() throws(SysError) {
        for path in spec.linux?.readonlyPaths ?? [] {
            if !Files.exists(path) { continue }
            try mount(path, path, nil, MountFlag.bind | MountFlag.recursive, nil, describe: "\(path) (read-only bind)")
            try remountBind(path, flags: MountFlag.readOnly | MountFlag.noSuid | MountFlag.noDev | MountFlag.noExec, describe: path)
        }
    }

    func finish() throws(SysError) {
        if let dev = spec.mounts?.last(where: { Paths.clean($0.destination) == "/dev" }),
           let options = try? MountOptions(dev.options ?? []), !options.isBind, dev.type != "bind",
           options.flags & MountFlag.readOnly != 0 {
            try remountBind("/dev", flags: options.remountFlags, describe: "/dev (read-only)")
        }
        if spec.root?.readonly == true {
            try remountBind("/", flags: MountFlag.readOnly, describe: "/ (read-only root)")
        }
        if let name = spec.linux?.rootfsPropagation, let flags = MountOptions.propagation(named: name),
           flags & (MountFlag.shared | MountFlag.unbindable) != 0 {
            try mount(nil, "/", nil, flags, nil, describe: "propagation of the root")
        }
    }
}

extension String {
    /// A Foundation-free replaceOccurrences for the few places that need it.
    func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
