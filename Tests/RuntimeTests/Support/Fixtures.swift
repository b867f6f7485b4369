import Foundation
import OCISpec

/// A bundle with a busybox-static root filesystem, made fresh for each test.
struct BusyboxBundle {
    let directory: String
    var spec: Spec

    var rootfs: String { directory + "/rootfs" }

    static let busybox = "/bin/busybox"

    init(args: [String], terminal: Bool = false) throws {
        directory = try Scratch.directory("bundle")
        let fm = FileManager.default
        for dir in ["bin", "etc", "proc", "sys", "dev", "tmp", "root"] {
            try fm.createDirectory(atPath: directory + "/rootfs/" + dir, withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: BusyboxBundle.busybox, toPath: directory + "/rootfs/bin/busybox")
        for applet in BusyboxBundle.applets where applet != "busybox" {
            try fm.createSymbolicLink(atPath: directory + "/rootfs/bin/" + applet, withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
            .write(toFile: directory + "/rootfs/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nnogroup:x:65534:\n".write(toFile: directory + "/rootfs/etc/group", atomically: true, encoding: .utf8)
        spec = DefaultSpec.make(rootless: false)
        spec.process?.terminal = terminal
        spec.process?.args = args
        spec.root?.readonly = false
    }

    static let applets: [String] = {
        let output = (try? Shell.run(busybox, ["--list"]).stdout) ?? ""
        return output.split(separator: "\n").map(String.init)
    }()

    func write() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        try encoder.encode(spec).write(to: URL(fileURLWithPath: directory + "/config.json"))
    }

    func writeFile(_ path: String, _ contents: String, mode: Int = 0o644) throws {
        let full = rootfs + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try contents.write(toFile: full, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
    }
}

/// Temporary directories under /tmp/caisson-tests, removed by the OS eventually and
/// by each test that cares.
enum Scratch {
    static func directory(_ prefix: String) throws -> String {
        let path = "/tmp/caisson-tests/\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func uniqueID(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

/// Runs programs and collects their output.
enum Shell {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], stdin: String? = nil,
                    timeout: TimeInterval = 60) throws -> Result {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // Output goes to files, so neither stream can fill up and block the process.
        let capture = try Scratch.directory("out")
        FileManager.default.createFile(atPath: capture + "/stdout", contents: nil)
        FileManager.default.createFile(atPath: capture + "/stderr", contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: capture + "/stdout"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: capture + "/stderr"))
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        try process.run()
        try? out.close()
        try? err.close()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                throw ShellTimeout(command: ([executable] + arguments).joined(separator: " "))
            }
            usleep(2000)
        }
        process.waitUntilExit()
        let result = Result(status: process.terminationStatus,
                            stdout: (try? String(contentsOfFile: capture + "/stdout", encoding: .utf8)) ?? "",
                            stderr: (try? String(contentsOfFile: capture + "/stderr", encoding: .utf8)) ?? "")
        try? FileManager.default.removeItem(atPath: capture)
        return result
    }

    struct ShellTimeout: Error, CustomStringConvertible {
        let command: String
        var description: String { "timed out: \(command)" }
    }
}
