import Builder
import CaissonJSON
import ImageSpec
import Images
import RegistryConfig

/// The query of `POST /build` read into what the builder takes. The docker CLI sends
/// every parameter, most of them empty or zero: only those actually set and without an
/// equivalent here (resource limits of RUN steps, extra hosts, squash, BuildKit's version
/// 2, remote contexts, cache sources...) are refused, by name, with 400.
struct BuildRequest: Sendable {
    enum Network: Sendable { case bridge, host, none }

    var tags: [String] = []
    /// The Dockerfile's path inside the context (cleaned, never leaving it).
    var dockerfile = "Dockerfile"
    var target: String?
    var buildArguments: [String: String] = [:]
    var labels: [String: String] = [:]
    var noCache = false
    var quiet = false
    var pull = BaseImagePolicy.missing
    var network = Network.bridge
    /// `X-Registry-Config`: credentials for pulling the base images.
    var credentials: [String: Credential] = [:]

    /// Parameters with no equivalent in this builder, refused when set.
    static let refused = ["extrahosts", "shmsize", "memory", "memswap", "cpushares", "cpusetcpus", "cpusetmems",
                          "cpuperiod", "cpuquota", "cgroupparent", "ulimits", "securityopt", "squash", "isolation",
                          "remote", "outputs", "session", "buildid", "cachefrom"]

    init(_ request: APIRequest) throws(DockerAPIError) {
        for name in BuildRequest.refused {
            guard let values = request.query[name] else { continue }
            for value in values where !["", "0", "null", "[]", "{}", "false", "default"].contains(value) {
                throw .badParameter("invalid parameter \(name): not supported by Caisson's builder (\(name)=\(value))")
            }
        }
        if let version = request.string("version"), !version.isEmpty, version != "1" {
            throw .badParameter("invalid parameter version: only the classic builder (version 1) is served; BuildKit (version 2) is not (set DOCKER_BUILDKIT=0)")
        }
        if let platform = request.string("platform"), !platform.isEmpty,
           !["linux/" + DockerAPIInfo.architecture, "linux"].contains(platform.lowercased()) {
            throw .badParameter("invalid parameter platform: only linux/\(DockerAPIInfo.architecture) can be built here, not \(platform)")
        }
        for tag in request.query["t"] ?? [] where !tag.isEmpty {
            do { _ = try ImageReference(parsing: tag) } catch {
                throw .badParameter("invalid parameter t: invalid reference format: \(tag)")
            }
            tags.append(tag)
        }
        if let file = request.string("dockerfile"), !file.isEmpty {
            let parts = file.split(separator: "/").filter { $0 != "." && !$0.isEmpty }
            guard !parts.isEmpty, !parts.contains("..") else {
                throw .badParameter("invalid parameter dockerfile: \(file) must be a path inside the build context")
            }
            dockerfile = parts.joined(separator: "/")
        }
        if let target = request.string("target"), !target.isEmpty { self.target = target }
        buildArguments = try BuildRequest.stringMap(request.string("buildargs"), name: "buildargs")
        labels = try BuildRequest.stringMap(request.string("labels"), name: "labels")
        noCache = request.bool("nocache")
        quiet = request.bool("q")
        if let pull = request.string("pull"), !pull.isEmpty {
            // docker's classic builder: a boolean; "always"/"missing"/"never" as buildah's --pull.
            if let policy = BaseImagePolicy(rawValue: pull) { self.pull = policy } else { self.pull = request.bool("pull") ? .always : .missing }
        }
        switch request.string("networkmode") ?? "" {
        case "", "default", "bridge": network = .bridge
        case "host": network = .host
        case "none": network = .none
        case let other:
            throw .badParameter("invalid parameter networkmode: \(other) is not supported for builds (use default, bridge, host or none)")
        }
        credentials = try BuildRequest.registryConfig(request.headers["X-Registry-Config"].first)
    }

    /// A JSON object of strings (`buildargs`, `labels`); a null value (an argument given
    /// without one) is left out, so the Dockerfile's default applies.
    static func stringMap(_ text: String?, name: String) throws(DockerAPIError) -> [String: String] {
        guard let text, !text.isEmpty, text != "null" else { return [:] }
        guard let value = try? JSONParser.parse(Array(text.utf8)), case .object(let object) = value else {
            throw .badParameter("invalid parameter \(name): expected a JSON object of strings")
        }
        var map: [String: String] = [:]
        for key in object.keys {
            guard let item = object[key] else { continue }
            switch item {
            case .string(let text): map[key] = text
            case .null: continue
            default: throw .badParameter("invalid parameter \(name): the value of \(key) is not a string")
            }
        }
        return map
    }

    /// `X-Registry-Config`: base64 JSON of `{"registry": {"username", "password"}}`.
    static func registryConfig(_ header: String?) throws(DockerAPIError) -> [String: Credential] {
        guard let header, !header.isEmpty else { return [:] }
        let standard = header.replacing("-", with: "+").replacing("_", with: "/")
        let padded = standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
        guard let bytes = Base64.decode(padded), let value = try? JSONParser.parse(bytes), case .object(let auths) = value else {
            throw .badParameter("invalid X-Registry-Config header: expected base64 of a JSON object")
        }
        var credentials: [String: Credential] = [:]
        for server in auths.keys {
            guard let auth = auths[server] else { continue }
            guard case .object(let fields) = auth, case .string(let user)? = fields["username"], !user.isEmpty else { continue }
            var password = ""
            if case .string(let text)? = fields["password"] { password = text }
            var host = server.replacing("https://", with: "").replacing("http://", with: "")
            if let slash = host.firstIndex(of: "/") { host = String(host[..<slash]) }
            if host == "index.docker.io" { host = "docker.io" }
            credentials[host] = Credential(username: user, password: password)
        }
        return credentials
    }

    /// The lines of a build that succeeded: the aux ID, then docker's `Successfully built`
    /// and `Successfully tagged` (quiet: the ID alone).
    static func resultLines(_ record: ImageRecord, tags: [String], quiet: Bool) -> [JSONObject] {
        var id = JSONObject()
        id.set("ID", .string(record.id.description))
        var aux = JSONObject()
        aux.set("aux", .object(id))
        if quiet { return [aux, BuildStreamProgress.stream(record.id.description + "\n")] }
        var lines = [aux, BuildStreamProgress.stream("Successfully built \(record.id.encoded.prefix(12))\n")]
        for tag in tags {
            let name = (try? ImageReference(parsing: tag)).map { ImageService.familiarName($0.description) } ?? tag
            lines.append(BuildStreamProgress.stream("Successfully tagged \(name)\n"))
        }
        return lines
    }

    /// A failed build in docker's words where they differ.
    static func message(_ error: BuildError) -> String {
        if case .stepFailed(let step, let status, _) = error {
            return "The command '\(step)' returned a non-zero code: \(status)"
        }
        return error.description
    }
}
