import Foundation

/// Debian's docker-registry (distribution v2) on a loopback port, with its own storage,
/// optionally behind htpasswd basic auth.
public final class TestRegistry: @unchecked Sendable {
    public let port: UInt16
    public let directory: String
    private let process: BackgroundProcess

    /// "127.0.0.1:PORT"
    public var host: String { "127.0.0.1:\(port)" }

    public static let user = "tester"
    public static let password = "caisson-pass"
    /// bcrypt of `password` (cost 4): what `htpasswd -B` would write.
    public static let passwordHash = "$2b$04$hD24PK4RH1Vj/tPvcRWvD.JpTYlOnl6fdiZPsn7nc9i1RMvmUzMjC"

    public init(basicAuth: Bool = false) throws {
        directory = try Scratch.directory("registry")
        port = Ports.free()
        var config = """
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: \(directory)/data
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:\(port)
          secret: caisson-tests

        """
        if basicAuth {
            try "\(TestRegistry.user):\(TestRegistry.passwordHash)\n".write(toFile: directory + "/htpasswd", atomically: true, encoding: .utf8)
            config += """
            auth:
              htpasswd:
                realm: caisson-tests
                path: \(directory)/htpasswd

            """
        }
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        process = try BackgroundProcess("/usr/bin/docker-registry", ["serve", directory + "/config.yml"], log: directory + "/log")
        guard Ports.waitForListener(port) else {
            process.stop()
            throw RegistryStartFailure(log: (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? "")
        }
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { process.stop() }

    /// The file in the registry's storage that holds a blob.
    public func blobDataPath(_ digest: String) -> String {
        let hex = String(digest.dropFirst("sha256:".count))
        return "\(directory)/data/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    struct RegistryStartFailure: Error, CustomStringConvertible {
        let log: String
        var description: String { "docker-registry did not start: \(log)" }
    }
}
