#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import OCISpec

/// A seccomp profile in docker's format (`--security-opt seccomp=profile.json`), which is
/// the OCI one plus `archMap` (the native architecture with its sub-architectures) and
/// rules that apply only `includes`/`excludes` capabilities, architectures or a minimum
/// kernel. Parsed when the container is created (a bad profile is refused by name then)
/// and turned into the OCI profile for the container's capabilities when its config.json
/// is written, as docker does.
struct SeccompProfile {
    struct Rule {
        var names: [String]
        var action: String
        var errnoRet: UInt32?
        var args: [SeccompArg]
        var includeCaps: [String] = []
        var excludeCaps: [String] = []
        var includeArches: [String] = []
        var excludeArches: [String] = []
        var minKernel: [Int]?
    }

    /// Why a profile cannot be used.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static let actions = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
                          "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"]
    static let operators = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                            "SCMP_CMP_MASKED_EQ"]

    var defaultAction: String
    var defaultErrnoRet: UInt32?
    var architectures: [String] = []
    var flags: [String] = []
    var rules: [Rule] = []

    init(json text: String) throws(Invalid) {
        guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else { throw Invalid("not a JSON object") }
        guard case .string(let action)? = object["defaultAction"] else { throw Invalid("no defaultAction") }
        defaultAction = try SeccompProfile.action(action)
        defaultErrnoRet = try SeccompProfile.number(object["defaultErrnoRet"], "defaultErrnoRet").map(UInt32.init)
        if object["listenerPath"] != nil { throw Invalid("listenerPath (SCMP_ACT_NOTIFY) is not supported") }
        architectures = try SeccompProfile.strings(object["architectures"], "architectures")
        if case .array(let entries)? = object["archMap"] {
            let native = SeccompProfile.nativeArchitecture
            for case .object(let entry) in entries {
                guard case .string(let architecture)? = entry["architecture"] else { throw Invalid("archMap entry without architecture") }
                if architecture == native {
                    architectures = [architecture] + (try SeccompProfile.strings(entry["subArchitectures"], "subArchitectures"))
                }
            }
        }
        flags = try SeccompProfile.strings(object["flags"], "flags")
        var calls: [JSONValue] = []
        switch object["syscalls"] {
        case nil, .null?: break
        case .array(let items)?: calls = items
        default: throw Invalid("syscalls is not an array")
        }
        for (index, value) in calls.enumerated() {
            guard case .object(let call) = value else { throw Invalid("syscalls[\(index)] is not an object") }
            var names = try SeccompProfile.strings(call["names"], "syscalls[\(index)].names")
            if case .string(let name)? = call["name"] { names.append(name) }
            guard !names.isEmpty else { throw Invalid("syscalls[\(index)] names no system call") }
            guard case .string(let action)? = call["action"] else { throw Invalid("syscalls[\(index)] has no action") }
            var rule = Rule(names: names, action: try SeccompProfile.action(action),
                            errnoRet: try SeccompProfile.number(call["errnoRet"], "errnoRet").map(UInt32.init), args: [])
            if case .array(let args)? = call["args"] {
                for case .object(let arg) in args {
                    guard let position = try SeccompProfile.number(arg["index"], "index"), position < 6,
                          case .string(let op)? = arg["op"], SeccompProfile.operators.contains(op) else {
                        throw Invalid("syscalls[\(index)] has an argument without a valid index (0-5) and op")
                    }
                    let valueTwo = try SeccompProfile.number(arg["valueTwo"], "valueTwo")
                    rule.args.append(SeccompArg(index: UInt32(position), value: try SeccompProfile.number(arg["value"], "value") ?? 0,
                                                valueTwo: valueTwo == 0 ? nil : valueTwo, op: op))
                }
            }
            if case .object(let includes)? = call["includes"] {
                rule.includeCaps = try SeccompProfile.strings(includes["caps"], "includes.caps")
                rule.includeArches = try SeccompProfile.strings(includes["arches"], "includes.arches")
                if case .string(let version)? = includes["minKernel"] {
                    rule.minKernel = version.split(separator: ".").compactMap { Int($0) }
                }
            }
            if case .object(let excludes)? = call["excludes"] {
                rule.excludeCaps = try SeccompProfile.strings(excludes["caps"], "excludes.caps")
                rule.excludeArches = try SeccompProfile.strings(excludes["arches"], "excludes.arches")
            }
            rules.append(rule)
        }
    }

    /// The OCI profile for a container holding `capabilities`.
    func oci(capabilities: [String]) -> Seccomp {
        var seccomp = Seccomp(defaultAction: defaultAction)
        seccomp.defaultErrnoRet = defaultErrnoRet
        seccomp.architectures = architectures.isEmpty ? nil : architectures
        seccomp.flags = flags.isEmpty ? nil : flags
        let arch = SeccompProfile.dockerArchitecture
        let kernel = SeccompProfile.kernelVersion
        var syscalls: [SeccompSyscall] = []
        for rule in rules {
            if !rule.includeCaps.allSatisfy({ capabilities.contains(SpecBuilder.capabilityName($0)) }) { continue }
            if rule.excludeCaps.contains(where: { capabilities.contains(SpecBuilder.capabilityName($0)) }) { continue }
            if !rule.includeArches.isEmpty, !rule.includeArches.contains(arch) { continue }
            if rule.excludeArches.contains(arch) { continue }
            if let minimum = rule.minKernel, kernel.lexicographicallyPrecedes(minimum) { continue }
            syscalls.append(SeccompSyscall(names: rule.names, action: rule.action, errnoRet: rule.errnoRet,
                                           args: rule.args.isEmpty ? nil : rule.args))
        }
        seccomp.syscalls = syscalls.isEmpty ? nil : syscalls
        return seccomp
    }

    static func action(_ text: String) throws(Invalid) -> String {
        guard actions.contains(text) else {
            throw Invalid("unknown action \(text)\(text == "SCMP_ACT_NOTIFY" ? " (notify needs a listener, which is not supported)" : "")")
        }
        return text
    }

    static func strings(_ value: JSONValue?, _ name: String) throws(Invalid) -> [String] {
        guard let value, value != .null else { return [] }
        guard case .array(let items) = value else { throw Invalid("\(name) is not an array of strings") }
        var result: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw Invalid("\(name) is not an array of strings") }
            result.append(text)
        }
        return result
    }

    static func number(_ value: JSONValue?, _ name: String) throws(Invalid) -> UInt64? {
        guard let value, value != .null else { return nil }
        guard case .number(let text) = value, let number = UInt64(text) else { throw Invalid("\(name) is not a non-negative integer") }
        return number
    }

    /// The machine as uname(2) names it.
    static var machine: String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The native architecture as seccomp names it (archMap's keys).
    static var nativeArchitecture: String {
        switch machine {
        case "x86_64": return "SCMP_ARCH_X86_64"
        case "aarch64": return "SCMP_ARCH_AARCH64"
        case "ppc64le": return "SCMP_ARCH_PPC64LE"
        case "s390x": return "SCMP_ARCH_S390X"
        case "riscv64": return "SCMP_ARCH_RISCV64"
        default: return "SCMP_ARCH_NATIVE"
        }
    }

    /// The architecture as docker's includes/excludes name it (Go's GOARCH).
    static var dockerArchitecture: String {
        switch machine {
        case "x86_64": return "amd64"
        case "aarch64": return "arm64"
        default: return machine
        }
    }

    static var kernelVersion: [Int] {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
    }
}
