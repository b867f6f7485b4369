import OCISpec
import RuntimeCore

/// What `--version` prints, in runc's shape: the version, then `key: value` lines
/// (runc: commit, spec, go, libseccomp). There is no commit line: the build does not
/// record one (runc leaves it out too when its build did not set it).
enum RuntimeVersion {
    static let version = "0.1.0"
    static var libseccomp: String { RuntimeInfo.libseccompVersion() }

    /// The version of the compiler that built this binary (runc prints Go's).
    static let swift: String = {
        #if compiler(>=7.0)
        return "7.0 or later"
        #elseif compiler(>=6.3.2)
        return "6.3.2 or later"
        #elseif compiler(>=6.3.1)
        return "6.3.1"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()

    /// The lines after "caisson-runtime version " (also the VERSION section of --help).
    static var lines: String {
        var lines = [version, "spec: \(Spec.version)", "swift: \(swift)"]
        let seccomp = libseccomp
        if !seccomp.isEmpty && seccomp != "0.0.0" { lines.append("libseccomp: \(seccomp)") }
        return lines.joined(separator: "\n")
    }
}
