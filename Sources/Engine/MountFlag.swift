import CaissonSys

/// docker's `--mount` syntax (`type=bind,source=/a,target=/b,readonly,bind-propagation=rslave`,
/// `type=volume,target=/data,volume-nocopy`, `type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770`)
/// as the engine's mount request; what the engine does not carry out is refused by name.
extension MountRequest {
    public static func parseMountFlag(_ text: String) throws(EngineError) -> MountRequest {
        var fields: [(String, String?)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            fields.append((Text.asciiLowercased(parts[0]), parts.count == 2 ? parts[1] : nil))
        }
        func flag(_ value: String?) throws(EngineError) -> Bool {
            switch value.map(Text.asciiLowercased) {
            case nil, "true"?, "1"?: return true
            case "false"?, "0"?: return false
            default: throw .invalidSetting(.mount, "\"\(text)\": invalid boolean \"\(value ?? "")\"")
            }
        }
        var kind = MountRequest.Kind.volume
        var source = ""
        var target: String?
        var readOnly = false
        var propagation: String?
        var noCopy: Bool?
        var tmpfsOptions: [String] = []
        for (key, value) in fields {
            switch key {
            case "type":
                guard let value, let parsed = MountRequest.Kind(rawValue: value) else {
                    throw .invalidSetting(.mount, "\"\(text)\": type must be bind, volume or tmpfs")
                }
                kind = parsed
            case "source", "src": source = value ?? ""
            case "target", "destination", "dst": target = value
            case "readonly", "ro": readOnly = try flag(value)
            case "bind-propagation": propagation = value
            case "volume-nocopy": noCopy = try flag(value)
            case "volume-driver" where value == "local": break
            case "consistency": break  // docker's macOS setting; nothing on Linux, as in docker.
            case "tmpfs-size":
                guard let value, let size = ByteSize.parse(value), size > 0 else {
                    throw .invalidSetting(.mount, "\"\(text)\": tmpfs-size must be a size such as 64m")
                }
                tmpfsOptions.append("size=\(size)")
            case "tmpfs-mode":
                guard let value, let mode = UInt32(value, radix: 8) else {
                    throw .invalidSetting(.mount, "\"\(text)\": tmpfs-mode must be an octal mode such as 1770")
                }
                tmpfsOptions.append("mode=" + String(mode, radix: 8))
            default:
                throw .invalidSetting(.mount, "\"\(text)\": the option \(key) is not supported")
            }
        }
        guard let target, !target.isEmpty else { throw .invalidSetting(.mount, "\"\(text)\": no target given") }
        switch kind {
        case .bind:
            guard !source.isEmpty else { throw .invalidSetting(.mount, "\"\(text)\": a bind mount needs a source") }
            guard noCopy == nil, tmpfsOptions.isEmpty else {
                throw .invalidSetting(.mount, "\"\(text)\": volume and tmpfs options do not apply to a bind mount")
            }
        case .volume:
            guard propagation == nil, tmpfsOptions.isEmpty else {
                throw .invalidSetting(.mount, "\"\(text)\": bind and tmpfs options do not apply to a volume")
            }
        case .tmpfs:
            guard source.isEmpty, propagation == nil, noCopy == nil else {
                throw .invalidSetting(.mount, "\"\(text)\": a tmpfs mount takes no source, bind or volume options")
            }
        }
        var mount = MountRequest(kind: kind, source: kind == .bind ? Paths.absolute(source) : source, destination: target,
                                 readOnly: readOnly, options: kind == .tmpfs ? tmpfsOptions + (readOnly ? ["ro"] : []) : [])
        mount.propagation = propagation
        mount.noCopy = noCopy
        if kind == .bind { mount.sourceMustExist = true }
        return mount
    }
}
