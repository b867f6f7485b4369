import CaissonSys

/// docker's text forms of settings, read in one place: sizes (`64m`), ulimits
/// (`nofile=1024:2048`), devices (`/dev/fuse:/dev/fuse:rwm`) for the command line, and the
/// json-file log options (`max-size`, `max-file`), which the command line (`--log-opt`) and
/// the Docker Engine API (HostConfig.LogConfig.Config) both give as a map.
public enum ByteSize {
    /// `512`, `64k`, `64m`, `1.5g`, `1gb`, `2GiB` (binary units, as docker's RAMInBytes).
    public static func parse(_ text: String) -> Int64? {
        var lower = Text.asciiLowercased(text)
        if lower.hasSuffix("ib") { lower.removeLast(2) } else if lower.hasSuffix("b") { lower.removeLast() }
        let units: [Character: Double] = ["k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024, "t": 1024 * 1024 * 1024 * 1024]
        var factor = 1.0
        if let last = lower.last, let unit = units[last] {
            factor = unit
            lower.removeLast()
        }
        guard !lower.isEmpty, lower.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(lower), value >= 0 else { return nil }
        let bytes = value * factor
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }
}

extension Ulimit {
    /// `NAME=SOFT[:HARD]` (HARD defaults to SOFT; -1 is unlimited).
    public static func parse(_ text: String) throws(EngineError) -> Ulimit {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw .invalidSetting(.ulimit, "\"\(text)\": expected NAME=SOFT[:HARD]") }
        let values = parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Int64($0) }
        guard values.count <= 2, let soft = values.first ?? nil, let hard = values.last ?? nil else {
            throw .invalidSetting(.ulimit, "\"\(text)\": the limits must be numbers (SOFT[:HARD])")
        }
        return Ulimit(name: parts[0], soft: soft, hard: hard)
    }
}

extension DeviceMapping {
    /// `HOST[:CONTAINER][:PERMISSIONS]`; the container's path defaults to the host's.
    public static func parse(_ text: String) throws(EngineError) -> DeviceMapping {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func isMode(_ text: String) -> Bool { !text.isEmpty && text.count <= 3 && text.allSatisfy { "rwm".contains($0) } }
        switch parts.count {
        case 1: return DeviceMapping(pathOnHost: parts[0], pathInContainer: parts[0])
        case 2 where isMode(parts[1]): return DeviceMapping(pathOnHost: parts[0], pathInContainer: parts[0], permissions: parts[1])
        case 2: return DeviceMapping(pathOnHost: parts[0], pathInContainer: parts[1])
        case 3 where isMode(parts[2]): return DeviceMapping(pathOnHost: parts[0], pathInContainer: parts[1], permissions: parts[2])
        default: throw .invalidSetting(.device, "\"\(text)\": expected HOST[:CONTAINER][:PERMISSIONS] with permissions of r, w and m")
        }
    }
}

extension LogRotation {
    /// The json-file driver's options: `max-size` (a size) and `max-file` (a count);
    /// nil when neither is given. Options this engine does not carry out are refused.
    public static func parse(options: [String: String]) throws(EngineError) -> LogRotation? {
        for key in options.keys.sorted() where key != "max-size" && key != "max-file" {
            throw .invalidSetting(.logOpt, "the json-file option \"\(key)\" is not supported (max-size and max-file are)")
        }
        var size: Int64?
        if let text = options["max-size"], text != "-1" {
            guard let parsed = ByteSize.parse(text), parsed > 0 else {
                throw .invalidSetting(.logOpt, "max-size \"\(text)\" is not a size such as 10m")
            }
            size = parsed
        }
        var files = 1
        if let text = options["max-file"] {
            guard let parsed = Int(text), parsed >= 1 else { throw .invalidSetting(.logOpt, "max-file \"\(text)\" is not a number above 0") }
            files = parsed
        }
        guard let size else {
            if files > 1 { throw .invalidSetting(.logOpt, "max-file needs max-size") }
            return nil
        }
        return LogRotation(maxSize: size, maxFiles: files)
    }
}
