@_exported import CaissonTestSupport
import CaissonJSON
import Foundation
import ImageSpec
import LayerArchive

/// Drives the built `caisson` binary as a user would, with a private --root and
/// registries configuration.
struct CaissonCLI {
    let root: String
    let registriesConf: String
    var authFile: String

    static let binary: String = sibling("caisson")
    static let runtimeBinary: String = sibling("caisson-runtime")

    static func sibling(_ name: String) -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var directory = (exe as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return "/work/main/.build/debug/" + name
    }

    init(registriesConf: String = "") throws {
        root = try Scratch.directory("images")
        self.registriesConf = root + "/registries.conf"
        authFile = root + "/auth.json"
        try registriesConf.write(toFile: self.registriesConf, atomically: true, encoding: .utf8)
    }

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 120) throws -> Shell.Result {
        let command = arguments.first ?? ""
        let global = ["--root", root + "/store", "--runroot", runroot, "--registries-conf", registriesConf, "--authfile", authFile]
        // Global options follow the (sub)command name(s).
        var split = 1
        if ["image", "system", "builder", "network", "volume"].contains(command), arguments.count > 1 { split = 2 }
        let args = Array(arguments[..<split]) + global + Array(arguments[split...])
        return try Shell.run(CaissonCLI.binary, args, stdin: stdin, timeout: timeout)
    }

    /// The run root of this store (runtime state, network namespaces), apart from every other.
    var runroot: String { root + "/run" }

    func cleanUp() {
        // Networks (a build's default bridge): their bridge and rules are the host's.
        _ = try? run(["system", "reset", "-f"])
        _ = try? Shell.run("/bin/sh", ["-c", "grep -o ' \(root)[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"])
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// One entry of a test layer.
enum LayerItem {
    case directory(String, mode: UInt32 = 0o755)
    case file(String, String, mode: UInt32 = 0o644)
    case binary(String, [UInt8], mode: UInt32 = 0o755)
    case symlink(String, to: String)
    case hardlink(String, to: String)
    /// `.wh.NAME` in the layer: NAME from below is deleted.
    case whiteout(String)
    /// `.wh..wh..opq` in a directory: what lower layers had there is hidden.
    case opaque(String)
}

/// A layer blob written by a test: compressed digest, size and diff id.
struct BuiltLayer {
    var descriptor: Descriptor
    var diffID: Digest
}

/// Builds OCI image layouts (what `skopeo copy oci:` reads) from layers described in the
/// test, with the project's own tar writer and gzip.
struct OCILayoutBuilder {
    let directory: String
    var manifests: [Descriptor] = []

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory + "/blobs/sha256", withIntermediateDirectories: true)
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(toFile: directory + "/oci-layout", atomically: true, encoding: .utf8)
    }

    func writeBlob(_ bytes: [UInt8]) throws -> Digest {
        let digest = Digest.sha256(of: bytes)
        _ = FileManager.default.createFile(atPath: directory + "/blobs/sha256/" + digest.encoded, contents: Data(bytes))
        return digest
    }

    /// A gzip-compressed layer.
    func layer(_ items: [LayerItem], gzip: Bool = true) throws -> BuiltLayer {
        let temporary = directory + "/layer.tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        let compressed = DigestingSink(FileSink(fd: fd))
        let diffID: Digest
        if gzip {
            let tarStream = DigestingSink(try GzipSink(compressed))
            var writer = TarWriter(tarStream)
            try OCILayoutBuilder.write(items, &writer)
            try writer.finish()
            diffID = tarStream.digest
        } else {
            var writer = TarWriter(compressed)
            try OCILayoutBuilder.write(items, &writer)
            try writer.finish()
            diffID = compressed.digest
        }
        close(fd)
        let digest = compressed.digest
        try FileManager.default.moveItem(atPath: temporary, toPath: directory + "/blobs/sha256/" + digest.encoded)
        return BuiltLayer(descriptor: Descriptor(mediaType: gzip ? MediaType.ociLayerGzip : MediaType.ociLayer,
                                                 digest: digest, size: compressed.count),
                          diffID: diffID)
    }

    static func write<S: ByteSink>(_ items: [LayerItem], _ writer: inout TarWriter<S>) throws {
        for item in items {
            switch item {
            case .directory(let path, let mode):
                try writer.writeHeader(TarEntry(path: path, kind: .directory, mode: mode, modificationTime: 1_700_000_000))
            case .file(let path, let text, let mode):
                try writer.writeFile(path, Array(text.utf8), mode: mode, modificationTime: 1_700_000_000)
            case .binary(let path, let bytes, let mode):
                try writer.writeFile(path, bytes, mode: mode, modificationTime: 1_700_000_000)
            case .symlink(let path, let target):
                try writer.writeHeader(TarEntry(path: path, kind: .symbolicLink, mode: 0o777, linkTarget: target))
            case .hardlink(let path, let target):
                try writer.writeHeader(TarEntry(path: path, kind: .hardLink, mode: 0o644, linkTarget: target))
            case .whiteout(let path):
                let parent = (path as NSString).deletingLastPathComponent
                let name = (path as NSString).lastPathComponent
                try writer.writeFile((parent.isEmpty ? "" : parent + "/") + ".wh." + name, [], mode: 0o644)
            case .opaque(let directory):
                try writer.writeFile(directory + "/.wh..wh..opq", [], mode: 0o644)
            }
        }
    }

    /// Writes config and manifest for layers; adds the manifest to the layout's index.
    @discardableResult
    mutating func image(_ layers: [BuiltLayer], platform: Platform = .current, cmd: [String] = ["/bin/sh"],
                        user: String? = nil, env: [String]? = nil, tag: String? = nil) throws -> Descriptor {
        var run = ImageConfig.RunConfig()
        run.Cmd = cmd
        run.User = user
        run.Env = env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        let config = ImageConfig(platform: platform, config: run, diffIDs: layers.map(\.diffID), created: "2026-11-01T10:00:00Z")
        let configBytes = config.encoded()
        let configDigest = try writeBlob(configBytes)
        let manifest = Manifest(mediaType: MediaType.ociManifest,
                                config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                                layers: layers.map(\.descriptor))
        let manifestBytes = manifest.encoded()
        let digest = try writeBlob(manifestBytes)
        var descriptor = Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: Int64(manifestBytes.count),
                                    platform: platform)
        if let tag { descriptor.annotations = ["org.opencontainers.image.ref.name": tag] }
        manifests.append(descriptor)
        try writeIndex()
        return descriptor
    }

    /// Groups the manifests so far into one multi-platform index under `tag`.
    mutating func multiPlatformIndex(tag: String) throws {
        let nested = ImageIndex(manifests: manifests)
        let bytes = nested.encoded()
        let digest = try writeBlob(bytes)
        manifests = [Descriptor(mediaType: MediaType.ociIndex, digest: digest, size: Int64(bytes.count),
                                annotations: ["org.opencontainers.image.ref.name": tag])]
        try writeIndex()
    }

    func writeIndex() throws {
        _ = FileManager.default.createFile(atPath: directory + "/index.json", contents: Data(ImageIndex(manifests: manifests).encoded()))
    }

    /// skopeo copy oci:DIR:TAG docker://DESTINATION (plain HTTP).
    func push(tag: String, to destination: String, all: Bool = false) throws {
        let result = try Shell.run("/usr/bin/skopeo", ["copy", "--quiet", "--dest-tls-verify=false"] + (all ? ["--all"] : [])
                                   + ["oci:\(directory):\(tag)", "docker://\(destination)"], timeout: 120)
        guard result.status == 0 else { throw FixtureFailure(what: "skopeo copy to \(destination)", output: result.stderr) }
    }
}

/// The items of a busybox root filesystem layer.
enum BusyboxLayer {
    static let applets = ["sh", "ls", "cat", "echo", "true", "id", "test", "stat", "sleep", "wc", "head", "find", "readlink"]

    static func items() throws -> [LayerItem] {
        let busybox = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/bin/busybox")))
        var items: [LayerItem] = [.directory("bin"), .binary("bin/busybox", busybox), .directory("etc"), .directory("tmp", mode: 0o1777),
                                  .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"),
                                  .file("etc/group", "root:x:0:\nusers:x:100:user\nextra:x:2000:user\nuser:x:1000:\n")]
        for applet in applets { items.append(.symlink("bin/" + applet, to: "busybox")) }
        return items
    }

    /// A root filesystem tarball (for `caisson import`).
    static func tarball(at path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var writer = TarWriter(FileSink(fd: fd))
        try OCILayoutBuilder.write(try items(), &writer)
        try writer.finish()
    }
}

struct FixtureFailure: Error, CustomStringConvertible {
    let what: String
    let output: String
    var description: String { "\(what) failed: \(output)" }
}

/// A build test's workspace: a CLI store with `local/busybox:1` imported, a scratch
/// directory `work` and its `context` directory; `cleanUp` removes them all.
struct BuildWorkspace {
    struct ImportFailed: Error { let stderr: String }

    let cli: CaissonCLI
    let work: String
    var context: String { work + "/context" }

    init(_ name: String) throws {
        cli = try CaissonCLI()
        work = try Scratch.directory(name)
        try BusyboxLayer.tarball(at: work + "/rootfs.tar")
        let imported = try cli.run(["import", work + "/rootfs.tar", "local/busybox:1"])
        guard imported.status == 0 else { throw ImportFailed(stderr: imported.stderr) }
        try FileManager.default.createDirectory(atPath: work + "/context", withIntermediateDirectories: true)
    }

    func cleanUp() {
        cli.cleanUp()
        try? FileManager.default.removeItem(atPath: work)
    }
}
