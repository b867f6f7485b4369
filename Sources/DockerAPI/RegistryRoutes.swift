import CaissonJSON
import Engine
import ImageSpec
import Images
import NIOHTTP1
import Registry
import RegistryConfig

/// The endpoints that ask a registry rather than this machine: `GET /distribution/{name}/json`
/// (the manifest's descriptor and the platforms it serves, as `docker manifest`-less
/// clients and `docker service` read them), `POST /auth` (credentials checked against the
/// registry's challenge: docker login); `GET /images/search` is `ImageSearchRoute`.
extension DockerAPI {
    func addRegistryRoutes(_ router: inout Router) {
        router.add(.GET, "/distribution/{name*}/json") { [self] request in
            let name = request.parameters["name"] ?? ""
            let explicit = try DockerAPI.registryAuth(request.headers["X-Registry-Auth"].first)
            return .json(try await distribution(name, explicit: explicit))
        }
        router.add(.POST, "/auth") { request in
            let body = try JSONBody(parsing: request.body)
            let user = try body.string("username") ?? ""
            let password = try body.string("password") ?? ""
            var server = try body.string("serveraddress") ?? ""
            if server.isEmpty { server = "docker.io" }
            server = server.replacing("https://", with: "").replacing("http://", with: "")
            if let slash = server.firstIndex(of: "/") { server = String(server[..<slash]) }
            if server == "index.docker.io" { server = "docker.io" }
            guard !user.isEmpty else { throw DockerAPIError.badParameter("invalid field username: a user name is required") }
            let client = RegistryClient(credentials: CredentialStore(file: "/dev/null"),
                                        explicit: [server: Credential(username: user, password: password)])
            do throws(RegistryError) {
                try await client.verifyLogin(host: server, insecure: false)
                await client.shutdown()
            } catch .loginFailed {
                await client.shutdown()
                throw DockerAPIError(.unauthorized, "login attempt to \(server) failed: unauthorized: incorrect username or password")
            } catch {
                await client.shutdown()
                throw DockerAPIError(.internalServerError, "\(error)")
            }
            var object = JSONObject()
            object.set("Status", .string("Login Succeeded"))
            object.set("IdentityToken", .string(""))
            return .json(object)
        }
    }

    /// The manifest (or index) `name` resolves to at the first registry that has it.
    func distribution(_ name: String, explicit: [String: Credential]) async throws -> JSONObject {
        let service = engine.images
        let reference: ImageReference
        do { reference = try ImageReference(parsing: name) } catch {
            throw DockerAPIError.badParameter("invalid reference format: \(name)")
        }
        let endpoints: [Endpoint]
        do { endpoints = try service.registries.pullEndpoints(for: reference) } catch { throw DockerAPIError(.forbidden, "\(error)") }
        let client = RegistryClient(credentials: service.credentials, explicit: explicit)
        var lastError: (any Error)?
        for endpoint in endpoints {
            do {
                let fetched = try await client.fetchManifest(endpoint, reference: reference.manifestReference)
                var descriptor = JSONObject()
                let mediaType = fetched.mediaType ?? MediaType.ociManifest
                descriptor.set("mediaType", .string(mediaType))
                descriptor.set("digest", .string(fetched.digest.description))
                descriptor.set("size", .int(fetched.bytes.count))
                var platforms: [Platform] = []
                if mediaType.contains("index") || mediaType.contains("manifest.list") {
                    platforms = try ImageIndex.parse(fetched.bytes).manifests.compactMap(\.platform)
                } else {
                    let manifest = try Manifest.parse(fetched.bytes, mediaType: mediaType)
                    try await client.fetchBlob(endpoint, manifest.config, into: service.content)
                    let config = try ImageConfig.parse(try service.content.read(manifest.config.digest))
                    platforms = [Platform(os: config.os, architecture: config.architecture, variant: config.variant)]
                }
                await client.shutdown()
                var object = JSONObject()
                object.set("Descriptor", .object(descriptor))
                object.set("Platforms", .array(platforms.map { platform in
                    var item = JSONObject()
                    item.set("architecture", .string(platform.architecture))
                    item.set("os", .string(platform.os))
                    if let variant = platform.variant { item.set("variant", .string(variant)) }
                    return .object(item)
                }))
                return object
            } catch {
                lastError = error
            }
        }
        await client.shutdown()
        if case RegistryError.manifestUnknown(let what)? = lastError as? RegistryError {
            throw DockerAPIError.notFound("manifest unknown: \(what)")
        }
        if case RegistryError.unauthorized(let what)? = lastError as? RegistryError {
            throw DockerAPIError(.unauthorized, "unauthorized: \(what)")
        }
        throw DockerAPIError(.internalServerError, lastError.map { "\($0)" } ?? "no registry to ask for \(name)")
    }
}
