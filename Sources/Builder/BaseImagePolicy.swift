import Images
import Registry

/// When a build pulls the images its FROM and `COPY --from` name: `missing` (only those
/// not on this machine), `always` (every one, for its newest version) or `never` (those
/// missing fail the build). `caisson build --pull` and the Docker API's `pull` query
/// parameter both end up here.
public enum BaseImagePolicy: String, Sendable {
    case missing, always, never

    /// The `ImageBuilder.BaseImageSource` for this policy over `images`, pulling with the
    /// registries and credentials of the store plus `explicit` ones (a request's).
    public func source(_ images: ImageService, explicit: [String: Credential] = [:],
                       observer: @escaping PullObserver = { _ in }) -> ImageBuilder.BaseImageSource {
        let policy = self
        return { (name) throws(BuildError) in
            if policy != .always, let record = try? images.resolve(name) { return record }
            if policy == .never { throw .invalid("image \(name) is not present and --pull=never was given") }
            let client = RegistryClient(credentials: images.credentials, explicit: explicit)
            do throws(ImageError) {
                let record = try await images.pull(name, client: client, observer: observer)
                await client.shutdown()
                return record
            } catch {
                await client.shutdown()
                throw .image(error)
            }
        }
    }
}
