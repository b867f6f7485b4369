#if canImport(Glibc)
import Glibc
#endif
import CaissonShim

/// Facts about host processes read from /proc, and waiting for children.
public enum Processes {
    /// The process's start time in clock ticks since boot (field 22 of /proc/PID/stat).
    /// Together with the pid it identifies a process across pid reuse.
    public static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? Files.readString("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); start time is field 22.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// The one-letter state of a process (R, S, D, Z, T, ...), nil if it is gone.
    public static func state(of pid: Int32) -> Character? {
        guard let stat = try? Files.readString("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return nil }
        let rest = stat[stat.index(after: close)...].drop(while: { $0 == " " })
        return rest.first
    }

    /// True when `pid` is alive (not a zombie) and, if given, still has `startTime`.
    public static func isAlive(_ pid: Int32, startTime expected: UInt64?) -> Bool {
        guard pid > 0 else { return false }
        guard let state = state(of: pid), state != "Z", state != "X" else { return false }
        if let expected, let actual = startTime(of: pid), actual != expected { return false }
        return true
    }

    /// Whether the process is gone, a zombie, or on its way out (PF_EXITING in the flags,
    /// field 9 of /proc/PID/stat). A pid namespace's init is exiting while the kernel
    /// kills and waits for the rest of the namespace, before its parent can reap it.
    public static func isExiting(_ pid: Int32) -> Bool {
        guard let stat = try? Files.readString("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return true }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 6, fields[0] != "Z", fields[0] != "X", let flags = UInt64(fields[6]) else { return true }
        return flags & 0x4 != 0
    }

    /// Whether the process is in a frozen cgroup (a paused container's): its /proc state
    /// is still 'S', so the freezer is read as the runtimes read it (v1 freezer.state, v2
    /// cgroup.freeze). The engine shows "paused" by it; the monitor holds health probes.
    public static func isFrozen(_ pid: Int32) -> Bool {
        guard let cgroups = try? Files.readString("/proc/\(pid)/cgroup") else { return false }
        for line in cgroups.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count == 3 else { continue }
            if parts[1] == "freezer", let state = try? Files.readTrimmed("/sys/fs/cgroup/freezer" + parts[2] + "/freezer.state") {
                return state == "FROZEN" || state == "FREEZING"
            }
            if parts[1].isEmpty, let frozen = try? Files.readTrimmed("/sys/fs/cgroup" + parts[2] + "/cgroup.freeze") {
                return frozen == "1"
            }
        }
        return false
    }

    /// Waits for a child; returns the shell-style exit status (code, or 128+signal).
    public static func waitForExit(_ pid: Int32) throws(SysError) -> Int32 {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, 0)
            if result == pid { break }
            if result < 0 && errno == EINTR { continue }
            throw SysError("waitpid \(pid)")
        }
        return exitStatus(fromWaitStatus: status)
    }

    /// Decodes a waitpid status into 0-255 (exit code) or 128+N (killed by signal N).
    public static func exitStatus(fromWaitStatus status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }

    /// The current process's environment as "K=V" strings.
    public static func currentEnvironment() -> [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }
}

/// A NULL-terminated C string array (argv/envp) that owns its memory.
///
/// Built before fork-like points so the child only passes pointers to execve.
public final class CStringArray {
    public private(set) var pointers: [UnsafeMutablePointer<CChar>?]

    public init(_ strings: [String]) {
        pointers = strings.map { strdup($0) }
        pointers.append(nil)
    }

    deinit {
        for pointer in pointers { free(pointer) }
    }
}
