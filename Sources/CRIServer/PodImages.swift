import CaissonSys
import CRIProto
import ImageSpec
import Images
import Registry

/// The CRI's image service over the node's image store: pulls (with the kubelet's
/// credentials, through the configured mirrors), status by any reference (name, tag,
/// digest, id), listing, removal and the image file system's usage.
extension PodManager {
    public func pullImage(_ text: String, auth: Runtime_V1_AuthConfig?) async throws(CRIError) -> String {
        guard !text.isEmpty else { throw .invalid("PullImage: no image given") }
        let reference: ImageReference
        do { reference = try ImageReference(parsing: text) } catch { throw .invalid("invalid image reference \"\(text)\": \(error)") }
        var explicit: [String: Credential] = [:]
        if let auth {
            guard auth.identityToken.isEmpty, auth.registryToken.isEmpty else {
                throw .invalid("PullImage: identity and registry tokens are not supported; give a username and password")
            }
            var credential: Credential?
            if !auth.username.isEmpty {
                credential = Credential(username: auth.username, password: auth.password)
            } else if !auth.auth.isEmpty, let decoded = Base64.decode(auth.auth) {
                let text = String(decoding: decoded, as: UTF8.self)
                if let colon = text.firstIndex(of: ":") {
                    credential = Credential(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
                }
            }
            if let credential {
                // As containerd does: credentials naming a server go to that host only;
                // otherwise to every place the image is pulled from, mirrors included.
                var hosts: [String] = []
                if !auth.serverAddress.isEmpty {
                    let server = auth.serverAddress.replacingPrefix("https://").replacingPrefix("http://")
                    hosts = [String(server.split(separator: "/").first ?? Substring(server))]
                } else {
                    hosts = [reference.registry]
                    if let endpoints = try? images.registries.pullEndpoints(for: reference) { hosts += endpoints.map(\.host) }
                }
                if hosts.contains("docker.io") { hosts.append("registry-1.docker.io") }
                for host in hosts { explicit[host] = credential }
            }
        }
        let client = RegistryClient(credentials: images.credentials, explicit: explicit)
        let record: ImageRecord
        do {
            record = try await images.pull(reference.description, client: client)
        } catch {
            await client.shutdown()
            if case .registry(.manifestUnknown) = error { throw .notFound("image \"\(text)\" not found: \(error)") }
            throw .failed("failed to pull image \"\(text)\": \(error)")
        }
        await client.shutdown()
        return record.id.description
    }

    /// The image a CRI image spec names, or nil.
    public func findImage(_ text: String) -> ImageRecord? {
        guard !text.isEmpty else { return nil }
        return try? images.resolve(text)
    }

    public func criImage(_ record: ImageRecord) -> Runtime_V1_Image {
        var image = Runtime_V1_Image()
        image.id = record.id.description
        image.repoTags = record.repoTags
        image.repoDigests = record.repoDigests
        image.size = UInt64(max(0, record.size))
        image.spec.image = record.id.description
        if let user = (try? images.config(of: record))?.config?.User, !user.isEmpty {
            let name = String(user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0])
            if let uid = Int64(name) {
                image.uid.value = uid
            } else {
                image.username = name
            }
        }
        return image
    }

    public func listImages(_ filter: Runtime_V1_ImageFilter?) throws(CRIError) -> [Runtime_V1_Image] {
        let records: [ImageRecord]
        do { records = try images.list() } catch { throw .failed("cannot list images: \(error)") }
        if let filter, filter.hasImage, !filter.image.image.isEmpty {
            guard let match = findImage(filter.image.image) else { return [] }
            return [criImage(match)]
        }
        return records.map(criImage)
    }

    /// Removes the image and all its names; an image that is not there is not an error.
    public func removeImage(_ text: String) throws(CRIError) {
        guard let record = findImage(text) else { return }
        do {
            _ = try images.remove(record.id.description, force: true)
        } catch {
            if case .notFound = error { return }
            throw .failed("cannot remove image \(text): \(error)")
        }
    }

    public func imageFilesystemUsage() -> Runtime_V1_FilesystemUsage {
        var usage = Runtime_V1_FilesystemUsage()
        usage.timestamp = Timestamps.now()
        usage.fsID.mountpoint = options.root
        var bytes: UInt64 = 0
        var inodes: UInt64 = 0
        for directory in [options.root + "/content", options.root + "/snapshots"] {
            let (b, i) = PodManager.diskUsage(directory)
            bytes += b
            inodes += i
        }
        usage.usedBytes.value = bytes
        usage.inodesUsed.value = inodes
        return usage
    }
}

extension String {
    func replacingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
