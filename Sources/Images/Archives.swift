#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import ContentStore
import ImageSpec
import LayerArchive

/// The archive formats `save` writes and `load` reads.
public enum ArchiveFormat: String, Sendable {
    /// `docker save`'s format: manifest.json, <config>.json, <layer>/layer.tar.
    case dockerArchive = "docker-archive"
    /// An OCI image layout (oci-layout, index.json, blobs/) in a tar.
    case ociArchive = "oci-archive"
}

/// docker-archive's manifest.json entries.
struct DockerArchiveEntry: Codable {
    var Config: String
    var RepoTags: [String]?
    var Layers: [String]
}

/// Image archives: save and load (docker-archive and OCI), import of a root filesystem.
extension ImageService {
    // MARK: save

    /// Writes images to a tar file (or descriptor) in `format`.
    public func save(_ names: [String], format: ArchiveFormat, to fd: Int32, path: String) throws(ImageError) {
        var records: [(ImageRecord, [String])] = []
        for name in names {
            let record = try resolve(name)
            var tags: [String] = []
            if let reference = try? ImageReference(parsing: name), record.repoTags.contains(reference.description) {
                tags = [reference.description]
            } else if !name.hasPrefix("sha256:"), !record.id.encoded.hasPrefix(name) {
                tags = []
            }
            if let i = records.firstIndex(where: { $0.0.id == record.id }) { records[i].1 += tags } else { records.append((record, tags)) }
        }
        do {
            var writer = TarWriter(FileSink(fd: fd, path: path))
            switch format {
            case .dockerArchive: try writeDockerArchive(records, &writer)
            case .ociArchive: try writeOCIArchive(records, &writer)
            }
            try writer.finish()
        } catch {
            throw ImageError.wrapping(error)
        }
    }

    /// docker's short form for names on docker.io (`busybox:latest`).
    public static func familiarName(_ name: String) -> String {
        var text = name
        if text.hasPrefix("docker.io/") { text = String(text.dropFirst("docker.io/".count)) }
        if text.hasPrefix("library/") { text = String(text.dropFirst("library/".count)) }
        return text
    }

    private func writeDockerArchive(_ records: [(ImageRecord, [String])], _ writer: inout TarWriter<FileSink>) throws {
        var entries: [DockerArchiveEntry] = []
        var repositories: [String: [String: String]] = [:]
        var written = Set<Digest>()
        for (record, tags) in records {
            let manifest = try manifest(of: record)
            let configBytes = try content.read(record.id)
            let config = try ImageConfig.parse(configBytes)
            let configName = record.id.encoded + ".json"
            if written.insert(record.id).inserted { try writer.writeFile(configName, configBytes) }
            var layers: [String] = []
            for (layer, diffID) in zip(manifest.layers, config.rootfs.diff_ids) {
                let name = diffID.encoded + "/layer.tar"
                layers.append(name)
                guard written.insert(diffID).inserted else { continue }
                try writer.writeHeader(TarEntry(path: diffID.encoded, kind: .directory, size: 0, mode: 0o755, uid: 0, gid: 0,
                                                modificationTime: 0, linkTarget: "", deviceMajor: 0, deviceMinor: 0))
                try writer.writeFile(diffID.encoded + "/VERSION", Array("1.0".utf8))
                try writeUncompressedLayer(layer, diffID: diffID, name: name, &writer)
            }
            let familiarTags = tags.map(ImageService.familiarName)
            entries.append(DockerArchiveEntry(Config: configName, RepoTags: familiarTags, Layers: layers))
            if let top = config.rootfs.diff_ids.last {
                for tag in familiarTags {
                    guard let colon = tag.lastIndex(of: ":"), !tag[colon...].contains("/") else { continue }
                    repositories[String(tag[..<colon]), default: [:]][String(tag[tag.index(after: colon)...])] = top.encoded
                }
            }
        }
        try writer.writeFile("manifest.json", try JSONEncoding.encode(entries))
        // The legacy index docker (and `docker load` before 1.10) reads: repository ->
        // tag -> the directory of the image's top layer. Written only for tagged images.
        if !repositories.isEmpty { try writer.writeFile("repositories", try JSONEncoding.encode(repositories)) }
    }

    /// Layers go into docker archives uncompressed (as docker writes them). The size is
    /// needed before the content, so a compressed blob is decompressed twice: once to
    /// count, once to copy; memory stays flat either way.
    private func writeUncompressedLayer(_ layer: Descriptor, diffID: Digest, name: String,
                                        _ writer: inout TarWriter<FileSink>) throws {
        let path = content.path(for: layer.digest)
        let compression = try LayerCompression(mediaType: layer.mediaType)
        func open() throws -> (Int32, DecompressedStream) {
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw SysError("open", path: path) }
            return (fd, try decompressing(FileSource(fd: fd, path: path), compression))
        }
        var size: Int64 = 0
        do {
            let (fd, stream) = try open()
            defer { close(fd) }
            var counting = stream
            try counting.forEachChunk { size += Int64($0.count) }
        }
        try writer.writeHeader(TarEntry(path: name, kind: .file, size: size, mode: 0o644, uid: 0, gid: 0, modificationTime: 0,
                                        linkTarget: "", deviceMajor: 0, deviceMinor: 0))
        let (fd, stream) = try open()
        defer { close(fd) }
        var copying = DigestingSource(stream)
        var copied: Int64 = 0
        try copying.forEachChunk { chunk in
            try writer.writeContent(chunk)
            copied += Int64(chunk.count)
        }
        let digest = try copying.drainAndFinalize()
        guard copied == size, digest == diffID else {
            throw ImageError.invalid("layer \(layer.digest) changed while being saved, or does not match diff id \(diffID)")
        }
    }

    private func writeOCIArchive(_ records: [(ImageRecord, [String])], _ writer: inout TarWriter<FileSink>) throws {
        try writer.writeFile("oci-layout", Array("{\"imageLayoutVersion\":\"1.0.0\"}".utf8))
        var written = Set<Digest>()
        var descriptors: [Descriptor] = []
        for (record, tags) in records {
            let manifest = try manifest(of: record)
            for blob in manifest.layers + [manifest.config] + [Descriptor(mediaType: record.manifestMediaType, digest: record.manifest,
                                                                          size: content.size(of: record.manifest) ?? 0)] {
                guard written.insert(blob.digest).inserted else { continue }
                try copyBlob(blob.digest, into: &writer)
            }
            let size = content.size(of: record.manifest) ?? 0
            if tags.isEmpty {
                descriptors.append(Descriptor(mediaType: record.manifestMediaType, digest: record.manifest, size: size))
            }
            for tag in tags {
                descriptors.append(Descriptor(mediaType: record.manifestMediaType, digest: record.manifest, size: size,
                                              annotations: ["org.opencontainers.image.ref.name": tag,
                                                            "io.containerd.image.name": tag]))
            }
        }
        try writer.writeFile("index.json", ImageIndex(manifests: descriptors).encoded())
    }

    private func copyBlob(_ digest: Digest, into writer: inout TarWriter<FileSink>) throws {
        let path = content.path(for: digest)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SysError("open", path: path) }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        try writer.writeHeader(TarEntry(path: "blobs/sha256/" + digest.encoded, kind: .file, size: Int64(info.st_size), mode: 0o444,
                                        uid: 0, gid: 0, modificationTime: 0, linkTarget: "", deviceMajor: 0, deviceMinor: 0))
        var source = FileSource(fd: fd, path: path)
        try source.forEachChunk { try writer.writeContent($0) }
    }

    // MARK: load

    /// Loads a docker-archive or OCI archive (either may be compressed); returns the
    /// images it held.
    public func load(fd: Int32, path: String) throws(ImageError) -> [ImageRecord] {
        let staging = root + "/tmp-load-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? Files.removeTree(staging)
        defer { try? Files.removeTree(staging) }
        do {
            try Files.makeDirectories(staging, mode: 0o700)
            // Unpacked with the layer applier: an archive cannot write outside `staging`.
            let stream = try decompressing(FileSource(fd: fd, path: path), detectCompressionIfSeekable(fd))
            var reader = TarReader(stream)
            defer { reader.close() }
            _ = try LayerApplier(root: staging, mode: .apply).apply(&reader)
        } catch {
            throw ImageError.wrapping(error)
        }
        if Files.exists(staging + "/manifest.json") {
            return try loadDockerArchive(staging)
        }
        if Files.exists(staging + "/index.json") {
            return try loadOCILayout(staging)
        }
        throw .invalid("\(path) is neither a docker archive (no manifest.json) nor an OCI archive (no index.json)")
    }

    private func detectCompressionIfSeekable(_ fd: Int32) -> LayerCompression {
        lseek(fd, 0, SEEK_CUR) >= 0 ? detectCompression(fd: fd) : .none
    }

    /// Reads a file inside the unpacked archive; `name` comes from the archive, so it is
    /// resolved inside `staging` only.
    private func archiveFile(_ staging: String, _ name: String) throws(ImageError) -> String {
        let parts = name.split(separator: "/").filter { $0 != "." }
        guard !parts.isEmpty, !parts.contains("..") else { throw .invalid("archive names an unsafe path \"\(name)\"") }
        let path = staging + "/" + parts.joined(separator: "/")
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw .invalid("archive is missing \(name) (or it is not a regular file)")
        }
        return path
    }

    /// Stores a file as a blob, streaming, and returns its descriptor.
    func ingestFile(_ path: String, mediaType: String, expected: Digest? = nil) throws(ImageError) -> Descriptor {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .system(SysError("open", path: path)) }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let size = Int64(info.st_size)
        let digest: Digest
        do {
            if let expected {
                digest = expected
            } else {
                var source = DigestingSource(FileSource(fd: fd, path: path))
                digest = try source.drainAndFinalize()
                lseek(fd, 0, SEEK_SET)
            }
            let ingest = try content.beginIngest(digest: digest, size: size, resume: false)
            if !ingest.complete {
                var source = FileSource(fd: fd, path: path)
                try source.forEachChunk { try ingest.write($0) }
                try ingest.commit()
            }
        } catch {
            throw ImageError.wrapping(error)
        }
        return Descriptor(mediaType: mediaType, digest: digest, size: size)
    }

    private func loadDockerArchive(_ staging: String) throws(ImageError) -> [ImageRecord] {
        let entries: [DockerArchiveEntry]
        do {
            entries = try JSONDecoding.decode([DockerArchiveEntry].self, from: try Files.readBytes(staging + "/manifest.json"))
        } catch let error as DecodingError {
            throw .invalid("docker archive manifest.json: \(describe(error))")
        } catch {
            throw .invalid("docker archive manifest.json: \(error)")
        }
        var loaded: [ImageRecord] = []
        for entry in entries {
            let configDescriptor = try ingestFile(try archiveFile(staging, entry.Config), mediaType: MediaType.ociConfig)
            let configBytes: [UInt8]
            let config: ImageConfig
            do {
                configBytes = try content.read(configDescriptor.digest)
                config = try ImageConfig.parse(configBytes)
            } catch {
                throw ImageError.wrapping(error)
            }
            guard config.rootfs.diff_ids.count == entry.Layers.count else {
                throw .invalid("docker archive: \(entry.Config) lists \(config.rootfs.diff_ids.count) diff ids for \(entry.Layers.count) layers")
            }
            var layers: [Descriptor] = []
            for (name, diffID) in zip(entry.Layers, config.rootfs.diff_ids) {
                let file = try archiveFile(staging, name)
                let fd = open(file, O_RDONLY | O_CLOEXEC)
                let compression = fd >= 0 ? detectCompression(fd: fd) : .none
                if fd >= 0 { close(fd) }
                let mediaType: String
                switch compression {
                case .none: mediaType = MediaType.ociLayer
                case .gzip: mediaType = MediaType.ociLayerGzip
                case .zstd: mediaType = MediaType.ociLayerZstd
                }
                let layer = try ingestFile(file, mediaType: mediaType, expected: compression == .none ? diffID : nil)
                layers.append(layer)
                try snapshots.unpack(blob: content.path(for: layer.digest), mediaType: mediaType, diffID: diffID)
            }
            let manifest = Manifest(mediaType: MediaType.ociManifest, config: configDescriptor, layers: layers)
            let bytes = manifest.encoded()
            let digest: Digest
            do { digest = try content.write(bytes) } catch { throw .content(error) }
            var tags: [String] = []
            for tag in entry.RepoTags ?? [] {
                guard let reference = try? ImageReference(parsing: tag) else { throw .invalid("docker archive: invalid tag \"\(tag)\"") }
                tags.append(reference.description)
            }
            let record = ImageRecord(
                id: configDescriptor.digest, manifest: digest, manifestMediaType: MediaType.ociManifest, index: nil,
                repoTags: tags, repoDigests: [], created: config.created, added: Clock.rfc3339Now(),
                size: layers.reduce(configDescriptor.size) { $0 + $1.size },
                platform: Platform(os: config.os, architecture: config.architecture, variant: config.variant).description)
            loaded.append(try register(record))
        }
        return loaded
    }

    private func loadOCILayout(_ staging: String) throws(ImageError) -> [ImageRecord] {
        let index: ImageIndex
        do {
            index = try ImageIndex.parse(try Files.readBytes(staging + "/index.json"))
        } catch let error as ImageSpecError {
            throw .document(error)
        } catch {
            throw .invalid("OCI archive index.json: \(error)")
        }
        var loaded: [ImageRecord] = []
        func blobPath(_ digest: Digest) throws(ImageError) -> String {
            try archiveFile(staging, "blobs/\(digest.algorithm.rawValue)/\(digest.encoded)")
        }
        for var entry in index.manifests {
            var indexDigest: Digest?
            if MediaType.isIndex(entry.mediaType) {
                let nestedPath = try blobPath(entry.digest)
                _ = try ingestFile(nestedPath, mediaType: entry.mediaType, expected: entry.digest)
                let nested: ImageIndex
                do { nested = try ImageIndex.parse(try content.read(entry.digest)) } catch {
                    throw .invalid("OCI archive: nested index \(entry.digest): \(error)")
                }
                guard let chosen = nested.manifest(for: .current) else {
                    throw .noMatchingPlatform(reference: entry.digest.description, platform: Platform.current.description,
                                              available: nested.manifests.compactMap { $0.platform?.description })
                }
                indexDigest = entry.digest
                chosen.annotations.map { _ in () }
                let name = entry.annotations
                entry = chosen
                entry.annotations = name
            }
            _ = try ingestFile(try blobPath(entry.digest), mediaType: entry.mediaType, expected: entry.digest)
            let manifest: Manifest
            do { manifest = try Manifest.parse(try content.read(entry.digest)) } catch {
                throw .invalid("OCI archive: manifest \(entry.digest): \(error)")
            }
            _ = try ingestFile(try blobPath(manifest.config.digest), mediaType: manifest.config.mediaType, expected: manifest.config.digest)
            let config: ImageConfig
            do { config = try ImageConfig.parse(try content.read(manifest.config.digest)) } catch {
                throw .invalid("OCI archive: config \(manifest.config.digest): \(error)")
            }
            guard config.rootfs.diff_ids.count == manifest.layers.count else {
                throw .invalid("OCI archive: manifest \(entry.digest) has \(manifest.layers.count) layers for \(config.rootfs.diff_ids.count) diff ids")
            }
            for (layer, diffID) in zip(manifest.layers, config.rootfs.diff_ids) {
                _ = try ingestFile(try blobPath(layer.digest), mediaType: layer.mediaType, expected: layer.digest)
                try snapshots.unpack(blob: content.path(for: layer.digest), mediaType: layer.mediaType, diffID: diffID)
            }
            var tags: [String] = []
            if let name = entry.annotations?["io.containerd.image.name"] ?? entry.annotations?["org.opencontainers.image.ref.name"] {
                // A bare ref.name is a tag for an unnamed repository: make it localhost/NAME.
                let text = name.contains("/") || name.contains(":") ? name : "localhost/caisson-loaded:\(name)"
                if let reference = try? ImageReference(parsing: text) { tags.append(reference.description) }
            }
            let record = ImageRecord(
                id: manifest.config.digest, manifest: entry.digest,
                manifestMediaType: manifest.mediaType ?? entry.mediaType, index: indexDigest,
                repoTags: tags, repoDigests: [], created: config.created, added: Clock.rfc3339Now(),
                size: manifest.layers.reduce(manifest.config.size) { $0 + $1.size },
                platform: Platform(os: config.os, architecture: config.architecture, variant: config.variant).description)
            loaded.append(try register(record))
        }
        return loaded
    }

    // MARK: import

    /// `caisson import`: a root filesystem tarball (plain, gzip or zstd) becomes a
    /// one-layer image, with `changes` applied to its config (CMD, ENTRYPOINT, ENV,
    /// WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL as JSON or shell form).
    public func importRootfs(fd: Int32, path: String, name: String?, changes: [String], message: String?) throws(ImageError) -> ImageRecord {
        var runConfig = ImageConfig.RunConfig()
        for change in changes { try ImageService.applyChange(change, to: &runConfig) }
        var reference: ImageReference?
        if let name {
            do { reference = try ImageReference(parsing: name) } catch { throw .document(error) }
        }
        // Copy the input into the store as the layer blob, hashing the compressed and
        // the uncompressed stream in one pass each.
        let staging = root + "/tmp-import-\(getpid())"
        defer { unlink(staging) }
        let compression: LayerCompression
        let diffID: Digest
        do {
            let out = open(staging, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if out < 0 { throw SysError("open", path: staging) }
            defer { close(out) }
            var source = FileSource(fd: fd, path: path)
            var sink = FileSink(fd: out, path: staging)
            try source.forEachChunk { try sink.write($0) }
            compression = detectCompression(fd: out)
            lseek(out, 0, SEEK_SET)
            // Validate the tar while computing the diff id.
            var reader = TarReader(DigestingSource(try decompressing(FileSource(fd: out, path: staging), compression)))
            defer { reader.close() }
            var entries = 0
            while let entry = try reader.next() {
                _ = try LayerApplier.components(of: entry.path)
                entries += 1
            }
            var rest = reader.takeSource()
            diffID = try rest.drainAndFinalize()
            if entries == 0 { throw ImageError.invalid("\(path) holds no files (is it a tar archive?)") }
        } catch {
            throw ImageError.wrapping(error)
        }
        let mediaType: String
        switch compression {
        case .none: mediaType = MediaType.ociLayer
        case .gzip: mediaType = MediaType.ociLayerGzip
        case .zstd: mediaType = MediaType.ociLayerZstd
        }
        let layer = try ingestFile(staging, mediaType: mediaType)
        try snapshots.unpack(blob: content.path(for: layer.digest), mediaType: mediaType, diffID: diffID)
        let now = Clock.rfc3339Now()
        let config = ImageConfig(platform: .current, config: runConfig, diffIDs: [diffID], created: now,
                                 history: [.init(created: now, createdBy: "caisson import", comment: message ?? "Imported from \(path)")])
        let configBytes = config.encoded()
        let configDigest: Digest
        do { configDigest = try content.write(configBytes) } catch { throw .content(error) }
        let manifest = Manifest(mediaType: MediaType.ociManifest,
                                config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                                layers: [layer])
        let manifestDigest: Digest
        do { manifestDigest = try content.write(manifest.encoded()) } catch { throw .content(error) }
        return try register(ImageRecord(
            id: configDigest, manifest: manifestDigest, manifestMediaType: MediaType.ociManifest, index: nil,
            repoTags: reference.map { [$0.description] } ?? [], repoDigests: [], created: now, added: now,
            size: layer.size + Int64(configBytes.count), platform: Platform.current.description))
    }

    /// One `--change` instruction.
    static func applyChange(_ change: String, to config: inout ImageConfig.RunConfig) throws(ImageError) {
        let trimmed = change.drop(while: { $0 == " " })
        let split = trimmed.split(separator: " ", maxSplits: 1)
        guard split.count == 2 else { throw .invalid("invalid --change \"\(change)\": expected INSTRUCTION ARGUMENTS") }
        let instruction = split[0].uppercased()
        let argument = String(split[1]).trimmingCharacters()
        func list() -> [String] {
            if argument.hasPrefix("["), case .array(let items)? = try? JSONParser.parse(Array(argument.utf8)) {
                return items.compactMap { if case .string(let s) = $0 { return s }; return nil }
            }
            return ["/bin/sh", "-c", argument]
        }
        switch instruction {
        case "CMD": config.Cmd = list()
        case "ENTRYPOINT": config.Entrypoint = list()
        case "ENV":
            let pair = argument.contains("=") ? argument : argument.replacingFirstSpace(with: "=")
            config.Env = (config.Env ?? []).filter { !$0.hasPrefix(String(pair.split(separator: "=")[0]) + "=") } + [pair]
        case "WORKDIR": config.WorkingDir = argument
        case "USER": config.User = argument
        case "STOPSIGNAL": config.StopSignal = argument
        case "LABEL":
            let parts = argument.split(separator: "=", maxSplits: 1).map { String($0).trimmingQuotes() }
            guard parts.count == 2 else { throw .invalid("invalid --change \"\(change)\": LABEL needs KEY=VALUE") }
            config.Labels = (config.Labels ?? [:]).merging([parts[0]: parts[1]]) { $1 }
        case "EXPOSE":
            var ports = config.ExposedPorts ?? [:]
            for port in argument.split(separator: " ") { ports[port.contains("/") ? String(port) : "\(port)/tcp"] = EmptyObject() }
            config.ExposedPorts = ports
        case "VOLUME":
            var volumes = config.Volumes ?? [:]
            for volume in list().count == 3 && !argument.hasPrefix("[") ? argument.split(separator: " ").map(String.init) : list() {
                volumes[volume] = EmptyObject()
            }
            config.Volumes = volumes
        default:
            throw .invalid("invalid --change \"\(change)\": \(instruction) is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR")
        }
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
    fileprivate func trimmingQuotes() -> String {
        var text = self.trimmingCharacters()
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
        return text
    }
    fileprivate func replacingFirstSpace(with separator: String) -> String {
        guard let space = firstIndex(of: " ") else { return self }
        return String(self[..<space]) + separator + String(self[index(after: space)...]).trimmingCharacters()
    }
}
