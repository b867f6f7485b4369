#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Images
import Registry

/// `caisson`: the docker/podman-like command line.
@main
struct Caisson: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caisson",
        abstract: "Run and manage containers and images.",
        version: "caisson 0.1.0",
        subcommands: [
            Pull.self, Push.self, Images.self, RemoveImages.self, Tag.self, Inspect.self, Save.self, Load.self,
            Import.self, Login.self, Logout.self, ImageGroup.self,
        ]
    )

    /// Exit codes as docker uses them: 125 for a mistake on the command line, 1 for a
    /// failed operation.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            fail(error.description, code: { if case .usage = error { return 125 }; return 1 }())
        } catch let error as ImageError {
            fail(error.description, code: 1)
        } catch let error as RegistryError {
            fail(error.description, code: 1)
        } catch {
            let code = exitCode(for: error)
            if code == .success { Glibc.exit(0) }
            if code == .validationFailure {
                let message = fullMessage(for: error)
                writeError(message.hasSuffix("\n") ? message : message + "\n")
                Glibc.exit(125)
            }
            Caisson.exit(withError: error)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        writeError("Error: \(message)\n")
        Glibc.exit(code)
    }
}

/// Options every command takes: where state lives and how registries are reached.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Directory for images and containers.")
    var root = "/var/lib/caisson"

    @Option(name: .customLong("registries-conf"), help: "containers-registries.conf(5) file (default /etc/containers/registries.conf).")
    var registriesConf: String?

    @Option(name: .long, help: "Credentials file (default: REGISTRY_AUTH_FILE, then the containers and docker auth files).")
    var authfile: String?

    @Option(name: .customLong("storage-driver"), help: "overlay or vfs (default: overlay when the kernel has it).")
    var storageDriver: String?

    func imageService() throws -> ImageService {
        var driver: SnapshotStore.Driver?
        if let storageDriver {
            guard let chosen = SnapshotStore.Driver(rawValue: storageDriver) else {
                throw CLIError.usage("invalid --storage-driver \"\(storageDriver)\": overlay or vfs")
            }
            driver = chosen
        }
        return try ImageService(ImageStoreOptions(root: root, registriesConf: registriesConf, authFile: authfile, driver: driver))
    }
}

/// Runs `body` with a registry client and shuts the client down afterwards.
func withRegistryClient<T>(_ service: ImageService, explicit: [String: Credential] = [:],
                           _ body: (RegistryClient) async throws -> T) async throws -> T {
    let client = RegistryClient(credentials: service.credentials, explicit: explicit)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

func printOut(_ text: String) {
    print(text, terminator: "")
}

/// Writes to standard error directly (unbuffered, and safe from any thread).
func writeError(_ text: String) {
    fflush(nil)
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { break }
        offset += n
    }
}
