import CaissonTestSupport
import Foundation
import Testing

/// What the SBOM tests share: the reference programs they compare with (each checked
/// for, naming the Debian or PyPI package that provides it), shell commands, and the
/// fixture directory.
enum SBOMTestSupport {
    struct MissingTool: Error, CustomStringConvertible {
        let tool: String
        let package: String
        var description: String { "this test needs \(tool): install \(package)" }
    }

    struct CommandFailed: Error, CustomStringConvertible {
        let command: String
        let result: Shell.Result
        var description: String { "`\(command)` exited \(result.status): \(result.stderr)\(result.stdout)" }
    }

    /// Fails with the package to install where `command` is not on PATH.
    static func require(_ command: String, debianPackage package: String) throws {
        let found = try Shell.run("/bin/sh", ["-c", "command -v \(command)"])
        if found.status != 0 { throw MissingTool(tool: command, package: "Debian package \(package)") }
    }

    /// Fails with the module to install where python3 cannot import `module`.
    static func requirePython(_ module: String, pypiPackage package: String) throws {
        try require("python3", debianPackage: "python3")
        let found = try Shell.run("/bin/sh", ["-c", "python3 -c 'import \(module)'"])
        if found.status != 0 { throw MissingTool(tool: "python3 module \(module)", package: "PyPI package \(package)") }
    }

    /// Creating whiteouts (mknod), trusted.* attributes and overlay mounts needs root.
    static func requireRoot() throws {
        struct NotRoot: Error, CustomStringConvertible {
            var description: String { "this test needs root (mknod of whiteouts, trusted.overlay.* attributes)" }
        }
        if getuid() != 0 { throw NotRoot() }
    }

    /// Runs `script` with `sh -ec`; its standard output on success.
    @discardableResult
    static func sh(_ script: String, timeout: TimeInterval = 300) throws -> String {
        let result = try Shell.run("/bin/sh", ["-ec", script], timeout: timeout)
        guard result.status == 0 else { throw CommandFailed(command: script, result: result) }
        return result.stdout
    }

    static func quote(_ word: String) -> String { Shell.quote(word) }

    /// Tests/Fixtures/sbom.
    static let fixtures: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sbom").path
    }()

    static func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// A scratch directory removed when `body` returns.
    static func withScratch<T>(_ prefix: String, _ body: (String) throws -> T) throws -> T {
        let directory = try Scratch.directory("sbom-" + prefix)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try body(directory)
    }
}
