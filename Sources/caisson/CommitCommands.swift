import ArgumentParser
import Builder
import Engine

/// `caisson commit`: docker's, over the same `ContainerCommit` the Docker API's
/// `POST /commit` uses.
struct Commit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit", abstract: "Create a new image from a container's changes.",
        usage: "caisson commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\").")
    var author: String?
    @Option(name: .shortAndLong, help: "Apply a Dockerfile instruction to the image's configuration (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, USER, VOLUME, WORKDIR); repeatable.")
    var change: [String] = []
    @Option(name: .shortAndLong, help: "Commit message.")
    var message: String?
    @Option(name: .shortAndLong, help: "Pause the container while its changes are read: true or false.")
    var pause = true
    @Argument(help: "CONTAINER") var container: String
    @Argument(help: "REPOSITORY[:TAG]") var reference: String?

    func run() throws {
        let engine = try global.engine()
        var options = CommitOptions()
        options.reference = reference
        options.author = author
        options.comment = message
        options.changes = change
        options.pause = pause
        do {
            let image = try ContainerCommit.commit(container, options: options, engine: engine)
            print(image.id.description)
        } catch {
            switch error {
            case .engine(let error): throw error
            case .image(let error): throw error
            case .invalidChange(let message), .invalidReference(let message): throw CLIError.usage(message)
            case .noWritableLayer: throw CLIError.failed(error.description)
            }
        }
    }
}

/// `caisson diff`: what a container changed in its filesystem, docker's way (A added,
/// C changed, D deleted), from its writable layer.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "List the changes to files or directories in a container's filesystem.",
        usage: "caisson diff CONTAINER")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Argument(help: "CONTAINER") var container: String

    func run() throws {
        let engine = try global.engine()
        let record = try engine.find(container)
        let changes: [ContainerChange]
        do { changes = try engine.changes(record) } catch { throw CLIError.failed(error.description) }
        let letters = ["C", "A", "D"]
        var text = ""
        for change in changes { text += "\(letters[change.kind]) \(change.path)\n" }
        printOut(text)
    }
}
