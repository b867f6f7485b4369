#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CaissonSys
import Engine
import ImageSpec
import Images
import Registry

/// `caisson`: the docker/podman-like command line.
@main
struct Caisson: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caisson", abstract: "Run and manage containers and images.", usage: "caisson [OPTIONS] COMMAND",
        version: "caisson 0.1.0",
        subcommands: [
            Run.self, Create.self, Start.self, Stop.self, Restart.self, Kill.self, Remove.self, PS.self, Logs.self,
            Exec.self, Attach.self, Wait.self, Pause.self, Unpause.self, Rename.self, Port.self, Top.self, Update.self, Stats.self, Copy.self, Events.self, Export.self, Commit.self, Diff.self,
            Build.self, Pull.self, Push.self, Images.self, RemoveImages.self, Tag.self, Inspect.self, Save.self, Load.self,
            Import.self, Login.self, Logout.self, Search.self, ImageGroup.self, BuilderGroup.self, NetworkGroup.self, VolumeGroup.self, SystemGroup.self,
            SBOMCommand.self, Scan.self, Version.self, Info.self,
        ]
    )

    /// Exit codes as docker uses them: 125 for a mistake on the command line, 1 for a
    /// failed operation.
    static func main() async {
        let arguments = LeadingGlobalOptions.moved(Array(CommandLine.arguments.dropFirst()))
        if let code = Help.answer(arguments) { Glibc.exit(code) }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            fail(error.description, code: error.exitCode)
        } catch let error as EngineError {
            fail(error.description, code: error.exitCode)
        } catch let error as ImageError {
            fail(error.description, code: 1)
        } catch let error as RegistryError {
            fail(error.description, code: 1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // ExitCode(0) from a command says nothing; a help request (--help, -h, a
                // group alone) or --version has a message.
                if fullMessage(for: error).isEmpty { Glibc.exit(0) }
                let path = Help.resolve(arguments, strict: false) ?? []
                if path.isEmpty && arguments.contains("--version") {
                    printOut(fullMessage(for: error) + "\n")
                } else {
                    printOut(Help.screen(for: arguments))
                }
                Glibc.exit(0)
            }
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

    @Option(name: .long, help: "Directory for runtime state and network namespaces.")
    var runroot = "/run/caisson"

    func imageOptions() throws -> ImageStoreOptions {
        var driver: SnapshotStore.Driver?
        if let storageDriver {
            guard let chosen = SnapshotStore.Driver(rawValue: storageDriver) else {
                throw CLIError.usage("invalid --storage-driver \"\(storageDriver)\": overlay or vfs")
            }
            driver = chosen
        }
        return ImageStoreOptions(root: root, registriesConf: registriesConf, authFile: authfile, driver: driver)
    }

    func imageService() throws -> ImageService {
        try ImageService(try imageOptions())
    }

    /// The arguments that make another `caisson` use the same state (for --rm clean-up).
    var passthrough: [String] {
        var arguments = ["--root", root, "--runroot", runroot]
        if let registriesConf { arguments += ["--registries-conf", registriesConf] }
        if let storageDriver { arguments += ["--storage-driver", storageDriver] }
        return arguments
    }

    /// Images that containers were created from (kept by rmi and prune unless forced).
    func imagesInUse() -> Set<ImageSpec.Digest> {
        Set(imageUsers().keys)
    }

    /// The containers that hold each image (a running one first), for rmi.
    func imageUsers() -> [ImageSpec.Digest: ImageUser] {
        guard Files.exists(root + "/engine.db"), let engine = try? engine(), let users = try? engine.imageUsers() else { return [:] }
        return users
    }

    func engine() throws -> ContainerEngine {
        let executable = Executables.selfPath
        let directory = Paths.parent(executable)
        var search = [directory]
        for entry in (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            search.append(String(entry))
        }
        search += ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        let monitor = directory + "/caisson-monitor"
        guard access(monitor, X_OK) == 0 else { throw CLIError.failed("caisson-monitor is missing beside \(executable)") }
        return try ContainerEngine(EngineOptions(
            root: root, runRoot: runroot, images: try imageOptions(), monitorPath: monitor, caissonPath: executable,
            caissonGlobalArguments: passthrough, searchPath: search))
    }
}

/// Where this executable is.
enum Executables {
    static var selfPath: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, 4095)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/usr/local/bin/caisson"
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
