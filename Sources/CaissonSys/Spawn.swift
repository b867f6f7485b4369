#if canImport(Glibc)
import Glibc
#endif
import CaissonShim

/// Starts programs with posix_spawn: the one way a multithreaded process (the CLI) may
/// start another, and a convenient one for the single-threaded monitor. The child gets
/// the descriptors named in `Spawn.Options` and nothing else of ours: what we open is
/// close-on-exec, and every other descriptor above them is closed in the child too (a
/// library's socket without close-on-exec, such as a connection SwiftNIO accepted, would
/// otherwise live on in a container's monitor and keep the client waiting for its end).
public enum Spawn {
    public struct Options {
        /// Descriptors for the child's 0, 1 and 2; nil keeps ours.
        public var stdin: Int32?
        public var stdout: Int32?
        public var stderr: Int32?
        /// Further descriptors: (ours, the number the child sees).
        public var inherit: [(Int32, Int32)] = []
        /// Start a new session (detached from our terminal and process group).
        public var newSession = false
        /// The child's environment; nil passes ours.
        public var environment: [String]?

        public init(stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil) {
            self.stdin = stdin
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    public static func start(_ argv: [String], _ options: Options = Options()) throws(SysError) -> pid_t {
        guard let program = argv.first else { throw SysError("spawn", path: "", errno: EINVAL) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let fd = options.stdin { posix_spawn_file_actions_adddup2(&actions, fd, 0) }
        if let fd = options.stdout { posix_spawn_file_actions_adddup2(&actions, fd, 1) }
        if let fd = options.stderr { posix_spawn_file_actions_adddup2(&actions, fd, 2) }
        for (source, target) in options.inherit { posix_spawn_file_actions_adddup2(&actions, source, target) }
        let firstUnnamed = (options.inherit.map(\.1).max() ?? 2) + 1
        for fd in 3..<max(3, firstUnnamed) where !options.inherit.contains(where: { $0.1 == fd }) {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        _ = caisson_spawn_add_closefrom(&actions, max(3, firstUnnamed))
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if options.newSession { flags |= 0x80 /* POSIX_SPAWN_SETSID */ }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let arguments = CStringArray(argv)
        let environment = CStringArray(options.environment ?? Processes.currentEnvironment())
        var pid: pid_t = 0
        let result = posix_spawn(&pid, program, &actions, &attributes, arguments.pointers, environment.pointers)
        guard result == 0 else { throw SysError("spawn", path: program, errno: result) }
        return pid
    }

    /// Runs a program to its end; returns its exit status (128+N for signal N).
    public static func run(_ argv: [String], _ options: Options = Options()) throws(SysError) -> Int32 {
        let pid = try start(argv, options)
        return try Processes.waitForExit(pid)
    }

    /// Runs a program with its standard output and error captured.
    public static func capture(_ argv: [String], stdin: Int32? = nil) throws(SysError) -> (status: Int32, output: [UInt8], error: [UInt8]) {
        try captureWithEnvironment(argv, environment: nil, stdin: stdin)
    }

    /// `capture` with a given environment (nil: ours).
    public static func captureWithEnvironment(_ argv: [String], environment: [String]?,
                                              stdin: Int32? = nil) throws(SysError) -> (status: Int32, output: [UInt8], error: [UInt8]) {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard caisson_pipe2(&out, O_CLOEXEC) == 0, caisson_pipe2(&err, O_CLOEXEC) == 0 else { throw SysError("pipe") }
        var options = Options(stdin: stdin, stdout: out[1], stderr: err[1])
        options.environment = environment
        let pid: pid_t
        do {
            pid = try start(argv, options)
        } catch {
            [out[0], out[1], err[0], err[1]].forEach { close($0) }
            throw error
        }
        close(out[1])
        close(err[1])
        var output: [UInt8] = []
        var error: [UInt8] = []
        var fds = [pollfd(fd: out[0], events: Int16(POLLIN), revents: 0), pollfd(fd: err[0], events: Int16(POLLIN), revents: 0)]
        var open = 2
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            if poll(&fds, 2, -1) < 0 { if errno == EINTR { continue }; break }
            for i in 0..<2 where fds[i].revents != 0 && fds[i].fd >= 0 {
                let n = read(fds[i].fd, &buffer, buffer.count)
                if n > 0 {
                    if i == 0 { output += buffer[0..<n] } else { error += buffer[0..<n] }
                } else {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        return (try Processes.waitForExit(pid), output, error)
    }
}
