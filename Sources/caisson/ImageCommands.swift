#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CaissonJSON
import CLIFormatting
import CaissonSys
import ImageSpec
import Engine
import ImageScanning
import Images
import Registry

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Download an image from a registry.", usage: "caisson pull [OPTIONS] NAME[:TAG|@DIGEST]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(help: "Platform OS/ARCH[/VARIANT] when the image has several (default: this machine's).")
    var platform: String?
    @Flag(name: .shortAndLong, help: "Suppress progress output.")
    var quiet = false
    @Option(name: .customLong("scan-policy"), help: "Check the pulled image against the vulnerability database: never, warn or block:SEVERITY (default: the config file's scan.policy, else never). A refused image that was not here before is removed again.")
    var scanPolicy: String?
    @Argument(help: "NAME[:TAG|@DIGEST]") var name: String

    func run() async throws {
        let service = try global.imageService()
        var chosen = Platform.current
        if let platform {
            do { chosen = try Platform(parsing: platform) } catch { throw CLIError.usage(error.description) }
        }
        let reference: ImageReference
        do { reference = try ImageReference(parsing: name) } catch { throw CLIError.usage(error.description) }
        let display = PullDisplay(quiet: quiet, terminal: isTerminal(1))
        if !quiet {
            if reference.tag == ImageReference.defaultTag, !name.hasSuffix(":latest"), reference.digest == nil {
                print("Using default tag: latest")
            }
            let shown = reference.isQualified ? reference.repository : ImageService.familiarName(reference.name)
            print("\(reference.digest?.description ?? reference.tag ?? "latest"): Pulling from \(shown)")
        }
        let policy = try global.scanPolicy(scanPolicy)
        let before = try? service.resolve(name)
        let record = try await withRegistryClient(service) { client in
            try await service.pull(name, platform: chosen, client: client, observer: display.observe)
        }
        EventLog(root: global.root).imagePulled(name)
        do {
            try global.enforceScanPolicy(policy, service: service, record: record, name: name)
        } catch {
            display.finish()
            if before?.id != record.id { _ = try? service.remove(record.id.description, force: false, users: global.imageUsers()) }
            throw error
        }
        display.finish()
        if quiet {
            print(record.repoTags.first ?? record.id.description)
        } else {
            let familiar = reference.isQualified ? reference.description : ImageService.familiarName(reference.description)
            print("Digest: \(display.digest ?? record.manifest)")
            print(display.downloaded ? "Status: Downloaded newer image for \(familiar)" : "Status: Image is up to date for \(familiar)")
            print(display.resolvedName ?? reference.description)
        }
    }
}

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Upload an image to a registry.", usage: "caisson push [OPTIONS] NAME[:TAG] [DESTINATION]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Suppress progress output.")
    var quiet = false
    @Argument(help: "NAME[:TAG] of a local image") var name: String
    @Argument(help: "Destination, if not the image's own name") var destination: String?

    func run() async throws {
        let service = try global.imageService()
        let target = destination ?? name
        let reference: ImageReference
        do { reference = try ImageReference(parsing: target) } catch { throw CLIError.usage(error.description) }
        if !quiet { print("The push refers to repository [\(reference.isQualified ? reference.name : ImageService.familiarName(reference.name))]") }
        let quiet = self.quiet
        let digest = try await withRegistryClient(service) { client in
            try await service.push(name, to: destination, client: client) { event in
                guard !quiet else { return }
                switch event {
                case .exists(let digest): print("\(digest.shortID): Layer already exists")
                case .mounted(let digest, let from): print("\(digest.shortID): Mounted from \(from)")
                case .pushed(let digest): print("\(digest.shortID): Pushed")
                case .finished(let reference, let digest, let size):
                    print("\(reference.tag ?? "latest"): digest: \(digest) size: \(size)")
                default: break
                }
            }
        }
        if quiet { print(digest) }
    }
}

/// Rows of `caisson images`.
struct ImageRow {
    var repository: String
    var tag: String
    var digest: String
    var record: ImageRecord
    /// Unpacked, as docker's (`ImageService.size(of:)`).
    var size: Int64
    /// `{{.Vulnerabilities}}`: worked out only when the format asks for it.
    var vulnerabilities: String?

    var fields: [(String, String)] {
        var fields = [("Repository", repository), ("Tag", tag), ("Digest", digest), ("ID", record.id.shortID),
                      ("CreatedSince", Units.since(record.created)), ("CreatedAt", record.created ?? ""),
                      ("Size", Units.humanSize(size)), ("Containers", "N/A")]
        if let vulnerabilities { fields.append(("Vulnerabilities", vulnerabilities)) }
        return fields
    }

    var json: JSONObject {
        var object = JSONObject()
        for (key, value) in fields { object.set(key, .string(value)) }
        return object
    }
}

struct Images: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images.", usage: "caisson images [OPTIONS] [REPOSITORY[:TAG]]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Show all images (there are no intermediate images; same as without).")
    var all = false
    @Flag(name: .shortAndLong, help: "Only show image ids.")
    var quiet = false
    @Flag(help: "Show digests.")
    var digests = false
    @Flag(name: .customLong("no-trunc"), help: "Do not truncate ids.")
    var noTrunc = false
    @Option(help: "Format with a Go template ({{.Repository}}, {{.Tag}}, {{.ID}}, {{.Digest}}, {{.CreatedSince}}, {{.Size}}, {{.Vulnerabilities}}, {{json .}}).")
    var format: String?
    @Argument(help: "Only images of this repository[:tag]") var filter: String?

    func run() throws {
        let service = try global.imageService()
        var rows: [ImageRow] = []
        for record in try service.list().sorted(by: { ($0.created ?? "") > ($1.created ?? "") }) {
            let size = quiet ? 0 : service.size(of: record)
            let digest = record.repoDigests.first.flatMap { $0.split(separator: "@").last.map(String.init) } ?? "<none>"
            if record.repoTags.isEmpty {
                let repository = record.repoDigests.first.flatMap { $0.split(separator: "@").first.map(String.init) }
                rows.append(ImageRow(repository: repository.map(ImageService.familiarName) ?? "<none>", tag: "<none>",
                                     digest: digest, record: record, size: size))
            }
            for tag in record.repoTags {
                guard let reference = try? ImageReference(parsing: tag) else { continue }
                let sameRepositoryDigest = record.repoDigests.first { $0.hasPrefix(reference.name + "@") }
                    .flatMap { $0.split(separator: "@").last.map(String.init) } ?? digest
                rows.append(ImageRow(repository: ImageService.familiarName(reference.name), tag: reference.tag ?? "<none>",
                                     digest: sameRepositoryDigest, record: record, size: size))
            }
        }
        if let filter {
            let wanted = try? ImageReference(parsing: filter)
            rows = rows.filter { row in
                let name = row.repository
                guard let wanted else { return false }
                let matchesName = ImageService.familiarName(wanted.name) == name
                return matchesName && (!filter.contains(":") || wanted.tag == row.tag)
            }
        }
        if quiet {
            var seen = Set<String>()
            for row in rows where seen.insert(row.record.id.encoded).inserted {
                print(noTrunc ? row.record.id.description : row.record.id.shortID)
            }
            return
        }
        if let format {
            let template = try FormatTemplate(format)
            if template.pieces.contains(.field("Vulnerabilities")) {
                rows = try vulnerabilityCounts(rows, service: service)
            }
            var lines: [String] = []
            if template.isTable {
                lines.append(template.header(["ID": "IMAGE ID", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT"]))
            }
            for row in rows {
                var fields = row.fields
                if noTrunc, let i = fields.firstIndex(where: { $0.0 == "ID" }) { fields[i].1 = row.record.id.description }
                lines.append(try template.render(fields, json: row.json))
            }
            printOut(template.isTable ? TabAlign.align(lines) : lines.map { $0 + "\n" }.joined())
            return
        }
        var table = [digests ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
                             : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]]
        for row in rows {
            let id = noTrunc ? row.record.id.description : row.record.id.shortID
            var cells = [row.repository, row.tag]
            if digests { cells.append(row.digest) }
            cells += [id, Units.since(row.record.created), Units.humanSize(row.size)]
            table.append(cells)
        }
        printOut(Table.render(table))
    }

    /// Each image's findings as "N (1 critical, 2 high)" from its cached catalogue and the
    /// vulnerability database; "-" where there is no database.
    func vulnerabilityCounts(_ rows: [ImageRow], service: ImageService) throws -> [ImageRow] {
        let scanner = try global.scanner(service)
        var known: [String: String] = [:]
        return rows.map { row in
            var row = row
            let key = row.record.id.description
            if known[key] == nil {
                if let report = try? scanner.scan(row.record, name: row.repository) {
                    let parts = report.counts.map { "\($0.1) \($0.0.description.lowercased())" }
                    known[key] = "\(report.findings.count)" + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
                } else {
                    known[key] = "-"
                }
            }
            row.vulnerabilities = known[key]
            return row
        }
    }
}

struct RemoveImages: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove images.", usage: "caisson rmi [OPTIONS] IMAGE [IMAGE...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Remove the image even if it has several names.")
    var force = false
    @Argument(help: "Images (name or id)") var images: [String]

    func validate() throws {
        if images.isEmpty { throw ValidationError("\"rmi\" requires at least 1 argument.") }
    }

    func run() throws {
        let service = try global.imageService()
        var failed = false
        for image in images {
            do {
                let id = try? service.resolve(image).id
                let lines = try service.remove(image, force: force, users: global.imageUsers())
                for line in lines { print(line) }
                if let id { EventLog(root: global.root).imageRemoved(id: id, lines: lines) }
            } catch {
                writeError("Error: \(error)\n")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an image another name.", usage: "caisson tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument(help: "SOURCE_IMAGE[:TAG]") var source: String
    @Argument(help: "TARGET_IMAGE[:TAG]") var target: String

    func run() throws {
        let service = try global.imageService()
        do { _ = try ImageReference(parsing: target) } catch { throw CLIError.usage(error.description) }
        try service.tag(source, as: target)
        if let id = try? service.resolve(source).id { EventLog(root: global.root).imageTagged(id: id, as: target) }
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show details of containers or images as JSON.", usage: "caisson inspect [OPTIONS] NAME|ID [NAME|ID...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Format with a Go template ({{.Id}}, {{.State.Status}}, {{json .Config}}, ...).")
    var format: String?
    @Option(help: "container or image (default: whichever the name finds, containers first).")
    var type: String?
    @Argument(help: "Containers or images") var names: [String]

    func validate() throws {
        if names.isEmpty { throw ValidationError("\"inspect\" requires at least 1 argument.") }
        if let type, type != "container", type != "image" { throw ValidationError("invalid --type \"\(type)\": container or image") }
    }

    func run() throws {
        let service = try global.imageService()
        let engine = type == "image" ? nil : try? global.engine()
        var documents: [JSONValue] = []
        var failed = false
        let template = try format.map { (text) throws(CLIError) in try FormatTemplate(text) }
        for name in names {
            do {
                let document: JSONObject
                if let engine, let container = try? engine.find(name) {
                    document = ContainerInspection.document(container, engine: engine)
                } else if type == "container" {
                    throw EngineError.noSuchContainer(name)
                } else {
                    do {
                        document = try ImageInspection.document(try service.resolve(name), service: service)
                    } catch ImageError.notFound {
                        throw CLIError.failed("No such object: \(name)")
                    }
                }
                if let template {
                    print(try template.render([], json: document))
                } else {
                    documents.append(.object(document))
                }
            } catch let error as CLIError {
                if case .usage = error { throw error }
                writeError("Error: \(error)\n")
                failed = true
            } catch {
                writeError("Error: \(error)\n")
                failed = true
            }
        }
        if template == nil { printOut(String(decoding: JSONEncoding.serialize(.array(documents), pretty: true), as: UTF8.self) + "\n") }
        if failed { throw ExitCode(1) }
    }
}

struct Save: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Write images to a tar archive.", usage: "caisson save [OPTIONS] IMAGE [IMAGE...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?
    @Option(help: "docker-archive (default) or oci-archive.")
    var format = "docker-archive"
    @Argument(help: "Images") var images: [String]

    func validate() throws {
        if images.isEmpty { throw ValidationError("\"save\" requires at least 1 argument.") }
    }

    func run() throws {
        guard let archiveFormat = ArchiveFormat(rawValue: format) else {
            throw CLIError.usage("invalid --format \"\(format)\": docker-archive or oci-archive")
        }
        let service = try global.imageService()
        for image in images { _ = try service.resolve(image) }
        if let output {
            let temporary = output + ".caisson-tmp"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 { throw CLIError.failed(SysError("open", path: output).description) }
            do {
                try service.save(images, format: archiveFormat, to: fd, path: output)
                close(fd)
                if rename(temporary, output) != 0 { throw CLIError.failed(SysError("rename", path: output).description) }
            } catch {
                close(fd)
                unlink(temporary)
                throw error
            }
        } else {
            if isTerminal(1) { throw CLIError.usage("cowardly refusing to save to a terminal. Use the -o flag or redirect") }
            try service.save(images, format: archiveFormat, to: 1, path: "<stdout>")
        }
    }
}

struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load images from a docker or OCI archive.", usage: "caisson load [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Read from this file instead of standard input.")
    var input: String?
    @Flag(name: .shortAndLong, help: "Suppress the load output.")
    var quiet = false

    func run() throws {
        let service = try global.imageService()
        var fd: Int32 = 0
        if let input {
            fd = open(input, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw CLIError.failed(SysError("open", path: input).description) }
        } else if isTerminal(0) {
            throw CLIError.usage("requested load from stdin, but stdin is empty (use -i FILE or redirect)")
        }
        defer { if fd != 0 { close(fd) } }
        let loaded = try service.load(fd: fd, path: input ?? "<stdin>")
        guard !quiet else { return }
        for record in loaded {
            if record.repoTags.isEmpty {
                print("Loaded image ID: \(record.id)")
            }
            for tag in record.repoTags { print("Loaded image: \(ImageService.familiarName(tag))") }
        }
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Create an image from a root filesystem tarball.", usage: "caisson import [OPTIONS] FILE|- [REPOSITORY[:TAG]]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL).")
    var change: [String] = []
    @Option(name: .shortAndLong, help: "Commit message for the history.")
    var message: String?
    @Argument(help: "Tarball (plain, gzip or zstd), or - for standard input") var file: String
    @Argument(help: "REPOSITORY[:TAG]") var name: String?

    func run() throws {
        let service = try global.imageService()
        if let name { do { _ = try ImageReference(parsing: name) } catch { throw CLIError.usage(error.description) } }
        var fd: Int32 = 0
        if file != "-" {
            fd = open(file, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw CLIError.failed(SysError("open", path: file).description) }
        }
        defer { if fd != 0 { close(fd) } }
        let record = try service.importRootfs(fd: fd, path: file, name: name, changes: change, message: message)
        print(record.id)
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in to a registry.", usage: "caisson login [OPTIONS] [SERVER]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong) var username: String?
    @Option(name: .shortAndLong) var password: String?
    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.")
    var passwordStdin = false
    @Argument(help: "Registry host (default docker.io)") var server: String?

    func run() async throws {
        let service = try global.imageService()
        let host = Login.normalizedHost(server ?? "docker.io")
        var user = username
        var secret = password
        if passwordStdin {
            if password != nil { throw CLIError.usage("--password and --password-stdin are mutually exclusive") }
            var line = ""
            while let chunk = readLine(strippingNewline: true) { line += chunk }
            secret = line
        }
        if user == nil {
            guard isTerminal(0) else { throw CLIError.usage("Cannot perform an interactive login from a non TTY device") }
            print("Username: ", terminator: "")
            fflush(nil)
            user = readLine()
        }
        if secret == nil {
            guard isTerminal(0) else { throw CLIError.usage("Cannot perform an interactive login from a non TTY device") }
            secret = getpass("Password: ").map { String(cString: $0) }
        }
        guard let user, !user.isEmpty, let secret, !secret.isEmpty else {
            throw CLIError.usage("a username and a password are required")
        }
        let credential = Credential(username: user, password: secret)
        let insecure = (try? service.registries.pushEndpoint(for: ImageReference(parsing: host + "/x")))?.insecure ?? false
        try await withRegistryClient(service, explicit: [host: credential]) { client in
            try await client.verifyLogin(host: host, insecure: insecure)
        }
        try service.credentials.store(credential, for: host)
        print("Login Succeeded")
    }

    static func normalizedHost(_ text: String) -> String {
        var host = text
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host = String(host.dropFirst(scheme.count)) }
        host = String(host.split(separator: "/").first ?? Substring(host))
        if host == "index.docker.io" || host == "registry-1.docker.io" { return "docker.io" }
        return host
    }
}

struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out from a registry.", usage: "caisson logout [OPTIONS] [SERVER]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument(help: "Registry host (default docker.io)") var server: String?

    func run() throws {
        let service = try global.imageService()
        let host = Login.normalizedHost(server ?? "docker.io")
        guard try service.credentials.remove(for: host) else { throw CLIError.failed("not logged in to \(host)") }
        print("Removing login credentials for \(host)")
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused images.", usage: "caisson image prune [OPTIONS]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Remove all unused images, not just dangling ones.")
    var all = false
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation.")
    var force = false

    func run() throws {
        let service = try global.imageService()
        if !force {
            print(all ? "WARNING! This will remove all images without at least one container associated to them."
                      : "WARNING! This will remove all dangling images.")
            print("Are you sure you want to continue? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return }
        }
        let result = try service.prune(all: all, inUse: global.imagesInUse())
        if !result.deleted.isEmpty {
            print("Deleted Images:")
            for id in result.deleted { print("deleted: \(id)") }
            print("")
        }
        print("Total reclaimed space: \(Units.humanSize(result.reclaimed))")
    }
}

/// `caisson image ...`: the same commands under docker's management-command names.
struct ImageGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images.", usage: "caisson image COMMAND",
        subcommands: [ImageList.self, Pull.self, Push.self, ImageRemove.self, Tag.self, Inspect.self, Save.self, Load.self,
                      Import.self, Prune.self])
}

struct ImageList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images.", usage: "caisson image ls [OPTIONS] [REPOSITORY[:TAG]]", aliases: ["list"])
    @OptionGroup var options: ImagesOptions
    func run() throws { try options.images.run() }
}

/// `image ls` shares `images`'s flags.
struct ImagesOptions: ParsableArguments {
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong) var all = false
    @Flag(name: .shortAndLong) var quiet = false
    @Flag var digests = false
    @Flag(name: .customLong("no-trunc")) var noTrunc = false
    @Option var format: String?
    @Argument var filter: String?

    var images: Images {
        var command = Images()
        command.global = global
        command.all = all
        command.quiet = quiet
        command.digests = digests
        command.noTrunc = noTrunc
        command.format = format
        command.filter = filter
        return command
    }
}

struct ImageRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove images.", usage: "caisson image rm [OPTIONS] IMAGE [IMAGE...]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Flag(name: .shortAndLong) var force = false
    @Argument var images: [String]
    func validate() throws { if images.isEmpty { throw ValidationError("\"image rm\" requires at least 1 argument.") } }
    func run() throws {
        var command = RemoveImages()
        command.global = global
        command.force = force
        command.images = images
        try command.run()
    }
}
