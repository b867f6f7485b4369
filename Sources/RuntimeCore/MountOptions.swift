import OCISpec

/// Mount flag bits (MS_*), named here because Swift does not import them from glibc.
public enum MountFlag {
    public static let readOnly: UInt = 1
    public static let noSuid: UInt = 2
    public static let noDev: UInt = 4
    public static let noExec: UInt = 8
    public static let synchronous: UInt = 16
    public static let remount: UInt = 32
    public static let mandatoryLock: UInt = 64
    public static let dirSync: UInt = 128
    public static let noSymFollow: UInt = 256
    public static let noAtime: UInt = 1024
    public static let noDirAtime: UInt = 2048
    public static let bind: UInt = 4096
    public static let move: UInt = 8192
    public static let recursive: UInt = 16384
    public static let silent: UInt = 32768
    public static let posixACL: UInt = 1 << 16
    public static let unbindable: UInt = 1 << 17
    public static let `private`: UInt = 1 << 18
    public static let slave: UInt = 1 << 19
    public static let shared: UInt = 1 << 20
    public static let relatime: UInt = 1 << 21
    public static let iVersion: UInt = 1 << 23
    public static let strictAtime: UInt = 1 << 24
    public static let lazyTime: UInt = 1 << 25
}

/// A mount's `options` list split into what mount(2) needs: flags to set, propagation
/// changes (each a separate call), and the rest joined as the data string.
public struct MountOptions: Equatable {
    public var flags: UInt = 0
    public var propagation: [UInt] = []
    public var data: [String] = []
    /// tmpcopyup (runc and crun's extension): copy what the image had at the
    /// destination into the new tmpfs.
    public var copyUp = false

    public var isBind: Bool { flags & MountFlag.bind != 0 }
    public var isRecursiveBind: Bool { isBind && flags & MountFlag.recursive != 0 }

    /// Flags that matter after a bind (the bind itself ignores them and needs a remount).
    public var remountFlags: UInt { flags & ~(MountFlag.bind | MountFlag.recursive | MountFlag.remount) }

    static let setting: [String: UInt] = [
        "ro": MountFlag.readOnly, "nosuid": MountFlag.noSuid, "nodev": MountFlag.noDev,
        "noexec": MountFlag.noExec, "sync": MountFlag.synchronous, "dirsync": MountFlag.dirSync,
        "remount": MountFlag.remount, "mand": MountFlag.mandatoryLock, "noatime": MountFlag.noAtime,
        "nodiratime": MountFlag.noDirAtime, "bind": MountFlag.bind,
        "rbind": MountFlag.bind | MountFlag.recursive, "relatime": MountFlag.relatime,
        "strictatime": MountFlag.strictAtime, "lazytime": MountFlag.lazyTime, "iversion": MountFlag.iVersion,
        "acl": MountFlag.posixACL, "silent": MountFlag.silent, "nosymfollow": MountFlag.noSymFollow,
    ]

    static let clearing: [String: UInt] = [
        "rw": MountFlag.readOnly, "suid": MountFlag.noSuid, "dev": MountFlag.noDev, "exec": MountFlag.noExec,
        "async": MountFlag.synchronous, "nomand": MountFlag.mandatoryLock, "atime": MountFlag.noAtime,
        "diratime": MountFlag.noDirAtime, "norelatime": MountFlag.relatime, "nostrictatime": MountFlag.strictAtime,
        "nolazytime": MountFlag.lazyTime, "noiversion": MountFlag.iVersion, "noacl": MountFlag.posixACL,
        "loud": MountFlag.silent, "symfollow": MountFlag.noSymFollow, "defaults": 0,
    ]

    static let propagations: [String: UInt] = [
        "private": MountFlag.private, "rprivate": MountFlag.private | MountFlag.recursive,
        "shared": MountFlag.shared, "rshared": MountFlag.shared | MountFlag.recursive,
        "slave": MountFlag.slave, "rslave": MountFlag.slave | MountFlag.recursive,
        "unbindable": MountFlag.unbindable, "runbindable": MountFlag.unbindable | MountFlag.recursive,
    ]

    /// Recursive attribute options (mount_setattr) that this runtime does not apply.
    static let recursiveAttributes: Set<String> = [
        "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnoatime", "ratime",
        "rnodiratime", "rdiratime", "rrelatime", "rnorelatime", "rstrictatime", "rnostrictatime",
        "rnosymfollow", "rsymfollow", "idmap", "ridmap",
    ]

    public enum ParseError: Error, CustomStringConvertible {
        case unsupported(String)
        public var description: String {
            switch self {
            case .unsupported(let option): return "mount option \"\(option)\" is not supported by caisson-runtime"
            }
        }
    }

    public init(_ options: [String]) throws(ParseError) {
        for option in options {
            if let flag = MountOptions.setting[option] {
                flags |= flag
            } else if let flag = MountOptions.clearing[option] {
                flags &= ~flag
            } else if let flag = MountOptions.propagations[option] {
                propagation.append(flag)
            } else if option == "tmpcopyup" {
                copyUp = true
            } else if MountOptions.recursiveAttributes.contains(option) {
                throw .unsupported(option)
            } else {
                data.append(option)
            }
        }
    }

    /// The propagation flags of a `rootfsPropagation` value.
    public static func propagation(named name: String) -> UInt? { propagations[name] }
}
