import CaissonJSON
import Engine

/// The create body's mounts, in docker's order: HostConfig.Binds (`-v` strings, the
/// engine's parser), HostConfig.Mounts (bind, volume, tmpfs with their options),
/// HostConfig.Tmpfs (`{"/run": "rw,size=64m"}`), then Config.Volumes (`{"/data": {}}`):
/// an anonymous volume for each path no other mount covers. Mount options the engine does
/// not carry out are refused by name.
enum MountsRequest {
    static func apply(_ body: JSONBody, host: JSONBody?, to config: inout ContainerConfig) throws(DockerAPIError) {
        if let host {
            for bind in try host.strings("Binds") ?? [] {
                do { config.mounts.append(try MountRequest.parseVolume(bind)) } catch {
                    throw .badParameter("invalid field HostConfig.Binds: \(error)")
                }
            }
            for item in try host.objects("Mounts") ?? [] { config.mounts.append(try mount(item)) }
            for (target, value) in try host.fields("Tmpfs") ?? [] {
                guard case .string(let options) = value else {
                    throw .badParameter("invalid field HostConfig.Tmpfs: \(target): expected a string of options")
                }
                // "" (docker run --tmpfs /t) asks for the defaults, as an option list left out does.
                config.mounts.append(MountRequest(kind: .tmpfs, source: "", destination: target,
                                                  options: options.split(separator: ",").map(String.init).filter { !$0.isEmpty }))
            }
        }
        for (target, _) in try body.fields("Volumes") ?? [] where !config.mounts.contains(where: { $0.destination == target }) {
            config.mounts.append(MountRequest(kind: .volume, source: "", destination: target))
        }
    }

    /// One entry of HostConfig.Mounts.
    static func mount(_ item: JSONBody) throws(DockerAPIError) -> MountRequest {
        try item.refuseFields(except: ["Type", "Source", "Target", "ReadOnly", "Consistency", "BindOptions", "VolumeOptions",
                                       "TmpfsOptions"])
        let typeName = try item.string("Type") ?? ""
        guard let kind = MountRequest.Kind(rawValue: typeName) else {
            throw .badParameter("invalid field \(item.path("Type")): \"\(typeName)\" is not supported (bind, volume or tmpfs are)")
        }
        guard let target = try item.string("Target"), !target.isEmpty else {
            throw .badParameter("invalid field \(item.path("Target")): no target given")
        }
        let source = try item.string("Source") ?? ""
        let readOnly = try item.bool("ReadOnly") ?? false
        var mount = MountRequest(kind: kind, source: source, destination: target, readOnly: readOnly)
        let bind = try item.object("BindOptions")
        let volume = try item.object("VolumeOptions")
        let tmpfs = try item.object("TmpfsOptions")
        for (options, name, field) in [(bind, "bind", "BindOptions"), (volume, "volume", "VolumeOptions"), (tmpfs, "tmpfs", "TmpfsOptions")]
        where name != typeName {
            if let options, options.object.keys.contains(where: { options.isSet($0) }) {
                throw .badParameter("invalid field \(item.path(field)): options for a \(name) mount on a \(typeName) mount")
            }
        }
        switch kind {
        case .bind:
            guard !source.isEmpty else { throw .badParameter("invalid field \(item.path("Source")): a bind mount needs a source") }
            mount.sourceMustExist = true
            if let bind {
                try bind.refuseFields(except: ["Propagation", "CreateMountpoint"])
                mount.propagation = try bind.string("Propagation").flatMap { $0.isEmpty ? nil : $0 }
                if try bind.bool("CreateMountpoint") == true { mount.sourceMustExist = nil }
            }
        case .volume:
            if let volume {
                try volume.refuseFields(except: ["NoCopy", "DriverConfig"])
                if try volume.bool("NoCopy") == true { mount.noCopy = true }
                if let driver = try volume.object("DriverConfig") {
                    try driver.refuseFields(except: ["Name"])
                    if let name = try driver.string("Name"), !name.isEmpty, name != "local" {
                        throw .badParameter("invalid field \(driver.path("Name")): volume driver \(name) is not supported (local is)")
                    }
                }
            }
        case .tmpfs:
            guard source.isEmpty else { throw .badParameter("invalid field \(item.path("Source")): a tmpfs mount takes no source") }
            if let tmpfs {
                try tmpfs.refuseFields(except: ["SizeBytes", "Mode"])
                if let size = try tmpfs.int64("SizeBytes"), size != 0 {
                    guard size > 0 else { throw .badParameter("invalid field \(tmpfs.path("SizeBytes")): \(size) is negative") }
                    mount.options.append("size=\(size)")
                }
                if let mode = try tmpfs.int64("Mode"), mode != 0 {
                    guard mode > 0, mode <= 0o7777 else { throw .badParameter("invalid field \(tmpfs.path("Mode")): \(mode) is not a file mode") }
                    mount.options.append("mode=" + String(mode, radix: 8))
                }
            }
            if readOnly { mount.options.append("ro") }
        }
        return mount
    }
}
