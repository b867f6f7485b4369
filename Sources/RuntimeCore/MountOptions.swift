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

    /// MOUNT_ATTR_* bits of mount_setattr(2).
    enum MountAttribute {
        static let readOnly: UInt64 = 0x1
        static let noSuid: UInt64 = 0x2
        static let noDev: UInt64 = 0x4
        static let noExec: UInt64 = 0x8
        static let atimeMask: UInt64 = 0x70
        static let relatime: UInt64 = 0x0
        static let noAtime: UInt64 = 0x10
        static let strictAtime: UInt64 = 0x20
        static let noDiratime: UInt64 = 0x80
        static let noSymFollow: UInt64 = 0x20_0000
    }

    /// Recursive attribute options: applied to the mount and every mount below it with
    /// mount_setattr(AT_RECURSIVE). The flag is set, or cleared for the inverse option.
    static let recursiveAttributes: [String: (clear: Bool, attribute: UInt64)] = [
        "rro": (false, MountAttribute.readOnly), "rrw": (true, MountAttribute.readOnly),
        "rnosuid": (false, MountAttribute.noSuid), "rsuid": (true, MountAttribute.noSuid),
        "rnodev": (false, MountAttribute.noDev), "rdev": (true, MountAttribute.noDev),
        "rnoexec": (false, MountAttribute.noExec), "rexec": (true, MountAttribute.noExec),
        "rnodiratime": (false, MountAttribute.noDiratime), "rdiratime": (true, MountAttribute.noDiratime),
        "rrelatime": (false, MountAttribute.relatime), "rnorelatime": (true, MountAttribute.relatime),
        "rnoatime": (false, MountAttribute.noAtime), "ratime": (true, MountAttribute.noAtime),
        "rstrictatime": (false, MountAttribute.strictAtime), "rnostrictatime": (true, MountAttribute.strictAtime),
        "rnosymfollow": (false, MountAttribute.noSymFollow), "rsymfollow": (true, MountAttribute.noSymFollow),
    ]

    /// Attributes to set and clear recursively (both 0 when the options have none).
    public var recursiveSet: UInt64 = 0
    public var recursiveClear: UInt64 = 0
    public var hasRecursiveAttributes: Bool { recursiveSet != 0 || recursiveClear != 0 }

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
            } else if let (clear, attribute) = MountOptions.recursiveAttributes[option] {
                if clear {
                    recursiveClear |= attribute
                } else {
                    recursiveSet |= attribute
                    // The access-time setting is a field, not a bit: mount_setattr wants
                    // the whole field cleared whenever one of its values is set.
                    if attribute & MountAttribute.atimeMask == attribute {
                        recursiveClear |= MountAttribute.atimeMask
                    }
                }
            } else if option == "idmap" || option == "ridmap" {
                throw .unsupported(option)
            } else {
                data.append(option)
            }
        }
    }

    /// The propagation flags of a `rootfsPropagation` value.
    public static func propagation(named name: String) -> UInt? { propagations[name] }
}
