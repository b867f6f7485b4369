import Images

/// docker's exit codes for `exec` of a command that is missing (127) or not executable
/// (126), decided before the runtime is asked, by looking the command up in the
/// container's root filesystem with the container's PATH.
public enum ExecutableCheck {
    public static func verify(_ command: String, rootfs: String, environment: [String]) throws(EngineError) {
        var candidates: [String] = []
        if command.contains("/") {
            candidates = [command.hasPrefix("/") ? command : "/" + command]
        } else {
            let path = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
                ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            candidates = path.split(separator: ":").map { "\($0)/\(command)" }
        }
        let root = UserResolver(rootfs: rootfs)
        var sawNonExecutable = false
        for candidate in candidates {
            switch root.executableStatus(candidate) {
            case .executable: return
            case .notExecutable: sawNonExecutable = true
            case .missing: continue
            }
        }
        if sawNonExecutable {
            throw EngineError.commandNotExecutable("exec: \"\(command)\": permission denied")
        }
        if command.contains("/") {
            throw EngineError.commandNotFound("exec: \"\(command)\": stat \(command): no such file or directory")
        }
        throw EngineError.commandNotFound("exec: \"\(command)\": executable file not found in $PATH")
    }
}
