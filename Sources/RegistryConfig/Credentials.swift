#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys

/// A user name and password (or identity token) for one registry.
public struct Credential: Sendable, Equatable {
    public var username: String
    public var password: String
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// Registry credentials in the docker `config.json` / containers `auth.json` format
/// (`{"auths": {"HOST": {"auth": base64("user:password")}}}`), so that logins made by
/// docker, podman or skopeo are used, and `caisson login` writes a file they read.
///
/// It lives in `RegistryConfig`, the registry settings without the HTTP client, so that
/// this parser of files other tools write can be built, tested and fuzzed on its own.
///
/// Lookup order: the file given (`--authfile` or `REGISTRY_AUTH_FILE`), else
/// `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`,
/// `~/.docker/config.json`. Logins are written to the given file or to
/// `~/.config/containers/auth.json`.
public struct CredentialStore: Sendable {
    public let explicitFile: String?

    public init(file: String? = nil) {
        if let file { explicitFile = file } else if let env = getenv("REGISTRY_AUTH_FILE") {
            explicitFile = String(cString: env)
        } else {
            explicitFile = nil
        }
    }

    private static var home: String { getenv("HOME").map { String(cString: $0) } ?? "/root" }

    var readFiles: [String] {
        if let explicitFile { return [explicitFile] }
        var files: [String] = []
        if let runtime = getenv("XDG_RUNTIME_DIR") { files.append(String(cString: runtime) + "/containers/auth.json") }
        files.append(CredentialStore.home + "/.config/containers/auth.json")
        files.append(CredentialStore.home + "/.docker/config.json")
        return files
    }

    public var writeFile: String { explicitFile ?? CredentialStore.home + "/.config/containers/auth.json" }

    /// The credential for a registry host, if any file has one.
    public func credential(for host: String) throws(RegistryError) -> Credential? {
        let keys = CredentialStore.keys(for: host)
        for file in readFiles where Files.exists(file) {
            let auths = try CredentialStore.read(file)
            for key in keys {
                if case .object(let entry)? = auths[key], case .string(let encoded)? = entry["auth"] {
                    guard let decoded = Base64.decode(encoded), let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else {
                        throw .credentials(file: file, reason: "the auth entry for \(key) is not base64 of user:password")
                    }
                    return Credential(username: String(decoding: decoded[..<colon], as: UTF8.self),
                                      password: String(decoding: decoded[(colon + 1)...], as: UTF8.self))
                }
            }
        }
        return nil
    }

    /// Records a login, keeping the file's other entries and members.
    public func store(_ credential: Credential, for host: String) throws(RegistryError) {
        let file = writeFile
        var document = JSONObject()
        if Files.exists(file) { document = try CredentialStore.readDocument(file) }
        var auths = JSONObject()
        if case .object(let existing)? = document["auths"] { auths = existing }
        var entry = JSONObject()
        entry.set("auth", .string(Base64.encode(Array("\(credential.username):\(credential.password)".utf8))))
        auths.set(CredentialStore.keys(for: host)[0], .object(entry))
        document.set("auths", .object(auths))
        try write(document, to: file)
    }

    /// Removes a login; returns false if there was none.
    public func remove(for host: String) throws(RegistryError) -> Bool {
        let file = writeFile
        guard Files.exists(file) else { return false }
        var document = try CredentialStore.readDocument(file)
        guard case .object(let auths)? = document["auths"] else { return false }
        var kept = JSONObject()
        var removed = false
        let keys = Set(CredentialStore.keys(for: host))
        for key in auths.keys {
            if keys.contains(key) { removed = true } else { kept.set(key, auths[key]!) }
        }
        document.set("auths", .object(kept))
        try write(document, to: file)
        return removed
    }

    private func write(_ document: JSONObject, to file: String) throws(RegistryError) {
        do {
            try Files.makeDirectories(Paths.parent(file), mode: 0o700)
            try Files.writeAtomically(file, bytes: JSONEncoding.serialize(.object(document), pretty: true) + [0x0a], mode: 0o600)
        } catch {
            throw .credentials(file: file, reason: error.description)
        }
    }

    /// docker.io logins are stored under Docker's historical key.
    static func keys(for host: String) -> [String] {
        if host == "docker.io" {
            return ["https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io"]
        }
        return [host, "https://\(host)", "http://\(host)"]
    }

    static func readDocument(_ file: String) throws(RegistryError) -> JSONObject {
        let bytes: [UInt8]
        do { bytes = try Files.readBytes(file) } catch { throw .credentials(file: file, reason: error.description) }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a }) { return JSONObject() }
        do {
            guard case .object(let object) = try JSONParser.parse(bytes) else {
                throw RegistryError.credentials(file: file, reason: "not a JSON object")
            }
            return object
        } catch let error as JSONSyntaxError {
            throw .credentials(file: file, reason: error.description)
        } catch {
            throw .credentials(file: file, reason: "not a JSON object")
        }
    }

    static func read(_ file: String) throws(RegistryError) -> JSONObject {
        if case .object(let auths)? = try readDocument(file)["auths"] { return auths }
        return JSONObject()
    }
}

/// Standard base64 (RFC 4648) for basic auth and credential files.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text.utf8 where byte != UInt8(ascii: "=") && byte != 0x0a && byte != 0x0d {
            guard let index = alphabet.firstIndex(of: byte == UInt8(ascii: "-") ? UInt8(ascii: "+")
                                                   : byte == UInt8(ascii: "_") ? UInt8(ascii: "/") : byte) else { return nil }
            values.append(UInt8(index))
        }
        var out: [UInt8] = []
        var i = 0
        while i + 1 < values.count {
            out.append(values[i] << 2 | values[i + 1] >> 4)
            if i + 2 < values.count { out.append((values[i + 1] & 15) << 4 | values[i + 2] >> 2) }
            if i + 3 < values.count { out.append((values[i + 2] & 3) << 6 | values[i + 3]) }
            i += 4
        }
        return out
    }
}
