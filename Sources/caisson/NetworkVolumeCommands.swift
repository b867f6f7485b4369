#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Builder
import CaissonJSON
import CLIFormatting
import CaissonSys
import Engine
import ImageSpec

struct NetworkGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Manage networks.", usage: "caisson network COMMAND",
        subcommands: [NetworkCreate.self, NetworkList.self, NetworkInspect.self, NetworkRemove.self,
                      NetworkConnect.self, NetworkDisconnect.self])
}

struct NetworkCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a bridge network.", usage: "caisson network create [OPTIONS] NETWORK")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "bridge (the only driver).") var driver = "bridge"
    @Option(help: "Subnet in CIDR form (default: a free 10.89.N.0/24).") var subnet: String?
    @Option(name: .long) var label: [String] = []
    @Argument var name: String
    func run() throws {
        guard driver == "bridge" else { throw CLIError.usage("unsupported network driver \"\(driver)\": only bridge") }
        var labels: [String: String] = [:]
        for item in label {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            labels[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        print(try global.engine().createNetwork(name: name, subnet: subnet, labels: labels).id)
    }
}

struct NetworkList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List networks.", usage: "caisson network ls [OPTIONS]", aliases: ["list"])
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong) var quiet = false
    @Option var format: String?
    @Option(name: .shortAndLong, help: "docker's filters: name=, id=, label=KEY[=VALUE], driver=, type=custom|builtin, scope=, dangling=true|false") var filter: [String] = []
    func run() throws {
        let engine = try global.engine()
        let networkFilter: NetworkFilter
        let values = try FilterFlags.values(filter)
        do { networkFilter = try NetworkFilter(values) } catch { throw CLIError.usage(error.description) }
        _ = try engine.network(named: ContainerEngine.defaultNetwork)
        let containers = try engine.store.containers()
        let networks = try engine.store.networks().filter { network in
            networkFilter.matches(.init(name: network.name, id: network.id, driver: network.driver, labels: network.labels,
                                        inUse: containers.contains { record in
                                            record.allNetworks.contains { $0.name == network.name && $0.address != nil }
                                                && engine.state(of: record).isRunning
                                        }))
        }
        let builtins = [("host", "host"), ("none", "null")].filter { name, driver in
            networkFilter.matches(.init(name: name, id: name, driver: driver, labels: [:], inUse: false))
        }
        let rows: [[(String, String)]] = builtins.map { [("ID", "-"), ("Name", $0.0), ("Driver", $0.1), ("Scope", "local")] }
            + networks.map { [("ID", String($0.id.prefix(12))), ("Name", $0.name), ("Driver", $0.driver), ("Scope", "local")] }
        if quiet { for network in networks { print(String(network.id.prefix(12))) }; return }
        if let format {
            let template = try FormatTemplate(format)
            for row in rows {
                var json = JSONObject()
                for (key, value) in row { json.set(key, .string(value)) }
                print(try template.render(row, json: json))
            }
            return
        }
        printOut(Table.render([["NETWORK ID", "NAME", "DRIVER", "SCOPE"]] + rows.map { $0.map(\.1) }))
    }
}

struct NetworkInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show networks as JSON.", usage: "caisson network inspect [OPTIONS] NETWORK [NETWORK...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var networks: [String]
    func run() throws {
        let engine = try global.engine()
        var documents: [JSONValue] = []
        for name in networks {
            documents.append(.object(try engine.networkDocument(try engine.network(named: name))))
        }
        printOut(String(decoding: JSONEncoding.serialize(.array(documents), pretty: true), as: UTF8.self) + "\n")
    }
}

struct NetworkRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove networks.", usage: "caisson network rm NETWORK [NETWORK...]", aliases: ["remove"])
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var networks: [String]
    func run() throws {
        let engine = try global.engine()
        try forEach(networks) { name in
            try engine.removeNetwork(name)
            print(name)
        }
    }
}

/// A container is on exactly one network, chosen when it is created; attaching a running
/// container to a second one is refused rather than half done.
struct NetworkConnect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "connect", abstract: "Connect a container to a further network.", usage: "caisson network connect [OPTIONS] NETWORK CONTAINER")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var network: String
    @Argument var container: String
    func run() throws {
        try global.engine().connect(container, to: network)
    }
}

struct NetworkDisconnect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disconnect", abstract: "Disconnect a container from a network it was connected to.", usage: "caisson network disconnect [OPTIONS] NETWORK CONTAINER")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var network: String
    @Argument var container: String
    func run() throws {
        try global.engine().disconnect(container, from: network)
    }
}

struct VolumeGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Manage volumes.", usage: "caisson volume COMMAND",
        subcommands: [VolumeCreate.self, VolumeList.self, VolumeInspect.self, VolumeRemove.self, VolumePrune.self])
}

struct VolumeCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a volume.", usage: "caisson volume create [OPTIONS] [VOLUME]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .long) var label: [String] = []
    @Argument var name: String?
    func run() throws {
        let engine = try global.engine()
        var labels: [String: String] = [:]
        for item in label {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            labels[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        let chosen = name ?? ContainerEngine.randomID()
        print(try engine.ensureVolume(chosen, labels: labels).name)
    }
}

struct VolumeList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List volumes.", usage: "caisson volume ls [OPTIONS]", aliases: ["list"])
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Only volume names.") var quiet = false
    @Option(name: .shortAndLong, help: "docker's filters: name=, label=KEY[=VALUE], label!=, driver=, dangling=true|false") var filter: [String] = []
    func run() throws {
        let engine = try global.engine()
        let values = try FilterFlags.values(filter)
        let volumeFilter: VolumeFilter
        do { volumeFilter = try VolumeFilter(values) } catch { throw CLIError.usage(error.description) }
        let volumes = try engine.store.volumes().filter { volume in
            volumeFilter.matches(volume, inUse: volumeFilter.needsUse ? try engine.volumeInUse(volume.name) : false)
        }
        if quiet { for volume in volumes { print(volume.name) }; return }
        printOut(Table.render([["DRIVER", "VOLUME NAME"]] + volumes.map { [$0.driver, $0.name] }))
    }
}

struct VolumeInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show volumes as JSON.", usage: "caisson volume inspect [OPTIONS] VOLUME [VOLUME...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument var volumes: [String]
    func run() throws {
        let engine = try global.engine()
        var documents: [JSONValue] = []
        for name in volumes {
            documents.append(.object(ContainerEngine.volumeDocument(try engine.volume(named: name))))
        }
        printOut(String(decoding: JSONEncoding.serialize(.array(documents), pretty: true), as: UTF8.self) + "\n")
    }
}

struct VolumeRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove volumes.", usage: "caisson volume rm [OPTIONS] VOLUME [VOLUME...]", aliases: ["remove"])
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong) var force = false
    @Argument var volumes: [String]
    func run() throws {
        let engine = try global.engine()
        try forEach(volumes) { name in
            try engine.removeVolume(name, force: force)
            print(name)
        }
    }
}

struct VolumePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove anonymous volumes no container uses (every unused one with --all).", usage: "caisson volume prune [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation.") var force = false
    @Flag(name: .shortAndLong, help: "Remove all unused volumes, not just anonymous ones.") var all = false
    func run() throws {
        if !force {
            print(all ? "WARNING! This will remove all local volumes not used by at least one container."
                      : "WARNING! This will remove anonymous local volumes not used by at least one container.")
            print("Are you sure you want to continue? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return }
        }
        let result = try global.engine().pruneVolumes(all: all)
        if !result.removed.isEmpty {
            print("Deleted Volumes:")
            for name in result.removed { print(name) }
            print("")
        }
        print("Total reclaimed space: \(Units.humanSize(result.bytes))")
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show versions.", usage: "caisson version [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    func run() throws {
        print("Client:\n Version:       0.1.0\n OS/Arch:       linux/\(Executables.architecture)")
        let engine = try? global.engine()
        let runtime = (try? engine?.resolveRuntime("caisson-runtime")) ?? nil
        var runtimeVersion = "unknown"
        if let runtime, let result = try? Spawn.capture([runtime, "--version"]) {
            runtimeVersion = String(decoding: result.output, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? runtimeVersion
        }
        print("\nEngine (in-process):\n Version:       0.1.0\n Runtime:       \(runtimeVersion)")
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show system-wide information.", usage: "caisson info [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    func run() throws {
        let engine = try global.engine()
        let rows = try engine.list()
        let running = rows.filter { $0.1.status == .running }.count
        let paused = rows.filter { $0.1.status == .paused }.count
        print("Containers: \(rows.count)\n Running: \(running)\n Paused: \(paused)\n Stopped: \(rows.count - running - paused)")
        print("Images: \(try engine.images.list().count)")
        print("Storage Driver: \(engine.images.snapshots.driver.rawValue)")
        print("Default Runtime: caisson-runtime")
        print("Root Dir: \(global.root)")
        print("Run Dir: \(global.runroot)")
        print("Architecture: \(Executables.architecture)")
    }
}

extension Executables {
    static var architecture: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }
}

struct SystemGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system", abstract: "Manage the engine's state.", usage: "caisson system COMMAND",
        subcommands: [SystemPrune.self, SystemReset.self, SystemDF.self, Info.self, SystemService.self])
}

struct SystemPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove stopped containers, unused networks and dangling images.", usage: "caisson system prune [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Remove all unused images, not just dangling ones.") var all = false
    @Flag(help: "Remove unused volumes too.") var volumes = false
    @Flag(name: .shortAndLong) var force = false
    func run() throws {
        if !force {
            print("WARNING! This will remove all stopped containers, networks not used by a container, and dangling images.")
            print("Are you sure you want to continue? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return }
        }
        let result = try global.engine().prune(allImages: all, volumes: volumes)
        if !result.containers.isEmpty { print("Deleted Containers:\n" + result.containers.joined(separator: "\n") + "\n") }
        if !result.networks.isEmpty { print("Deleted Networks:\n" + result.networks.joined(separator: "\n") + "\n") }
        print("Total reclaimed space: \(Units.humanSize(result.bytes))")
    }
}

struct SystemReset: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reset", abstract: "Remove every container, network, volume and image.", usage: "caisson system reset [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong) var force = false
    func run() throws {
        if !force {
            print("WARNING! This will remove all containers, networks, volumes and images.")
            print("Are you sure you want to continue? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return }
        }
        try global.engine().reset()
    }
}

struct SystemDF: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "df", abstract: "Show disk usage.", usage: "caisson system df [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    func run() throws {
        let engine = try global.engine()
        let images = try engine.images.list()
        let containers = try engine.list()
        let volumes = try engine.store.volumes()
        // Each layer once, unpacked, as docker's LayersSize.
        var layerBytes: [Digest: Int64] = [:]
        for image in images {
            for layer in engine.images.layerSizes(of: image) ?? [] { layerBytes[layer.diffID] = layer.size }
        }
        let imageBytes = layerBytes.values.reduce(Int64(0), +)
        let used = Set(containers.map(\.0.imageID))
        let activeImages = images.filter { used.contains($0.id) }.count
        var volumeBytes: Int64 = 0
        for volume in volumes { volumeBytes += ContainerEngine.diskUsageOf(volume.mountpoint) }
        // Cached build steps (their layer blobs) and RUN --mount=type=cache directories.
        let cache = BuildCache(root: engine.images.root).usage(images: engine.images)
        let mountBytes = ContainerEngine.diskUsageOf(BuildCache.mountsDirectory(root: engine.images.root))
        printOut(Table.render([
            ["TYPE", "TOTAL", "ACTIVE", "SIZE"],
            ["Images", String(images.count), String(activeImages), Units.humanSize(imageBytes)],
            ["Containers", String(containers.count), String(containers.filter { $0.1.isRunning }.count), "-"],
            ["Local Volumes", String(volumes.count), "-", Units.humanSize(volumeBytes)],
            ["Build Cache", String(cache.steps), "0", Units.humanSize(cache.bytes + mountBytes)],
        ]))
    }
}
