import Foundation
@_exported import CaissonTestSupport
import CaissonSys
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
        // Written through close-on-exec descriptors: a runtime spawned meanwhile by a
        // parallel test must not inherit a write descriptor to this binary, or that
        // container's exec of it fails with ETXTBSY.
        try Files.write(directory + "/rootfs/bin/busybox", bytes: try Files.readBytes(BusyboxBundle.busybox), mode: 0o755)
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
        // Close-on-exec writes, for the same reason as the busybox copy (scripts are executed).
        try Files.write(full, bytes: Array(contents.utf8), mode: mode_t(mode))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
    }
}

