import Foundation
import Testing

/// `caisson build` stopped by Ctrl-C (SIGINT) or SIGTERM in the middle of a RUN: it exits
/// 128+signal and leaves no container, process, mount, runtime state, scratch directory or
/// image behind; the steps that finished stay cached, so the next build resumes after them.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BuildInterruptTests {
    static func processes(matching text: String) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.filter { pid in
            guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(text)
        }
    }

    @Test func anInterruptedBuildLeavesNothingBehind() throws {
        let workspace = try BuildWorkspace("build-interrupt")
        defer { workspace.cleanUp() }
        let (cli, work) = (workspace.cli, workspace.work)
        let runroot = cli.runroot
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let marker = "\(3000 + Int.random(in: 0..<5000))"
            try "FROM local/busybox:1\nRUN echo first > /first\nRUN sleep \(marker)\nRUN echo never\n"
                .write(toFile: work + "/context/Dockerfile", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CaissonCLI.binary)
            process.arguments = ["build", "--root", cli.root + "/store", "--runroot", runroot, "-t", "half:1", work + "/context"]
            FileManager.default.createFile(atPath: work + "/out", contents: nil)
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: work + "/out"))
            process.standardOutput = out
            process.standardError = out
            try process.run()
            var waited = 0
            while Self.processes(matching: "sleep \(marker)").isEmpty && waited < 300 {
                usleep(100_000)
                waited += 1
            }
            #expect(!Self.processes(matching: "sleep \(marker)").isEmpty, "the RUN step never started")
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            try out.close()
            let output = (try? String(contentsOfFile: work + "/out", encoding: .utf8)) ?? ""
            #expect(process.terminationReason == .exit && process.terminationStatus == status, "\(output)")
            #expect(output.contains("build interrupted"), "\(output)")
            #expect(!output.contains("never"))

            // Nothing left: the step's process, its mount, the runtime's state, scratch, an image.
            #expect(Self.processes(matching: "sleep \(marker)").isEmpty)
            let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            #expect(!mounts.contains(cli.root + "/store/"), "\(mounts)")
            let state = (try? FileManager.default.contentsOfDirectory(atPath: runroot + "/runtime-caisson-runtime")) ?? []
            #expect(state.isEmpty, "runtime state left: \(state)")
            for area in ["/netns", "/build-networks"] {
                let left = (try? FileManager.default.contentsOfDirectory(atPath: runroot + area)) ?? []
                #expect(left.isEmpty, "left in \(area): \(left)")
            }
            for area in ["/store/build", "/store/rootfs"] {
                let left = (try? FileManager.default.contentsOfDirectory(atPath: cli.root + area)) ?? []
                #expect(left.isEmpty, "left in \(area): \(left)")
            }
            let images = try cli.run(["images", "--format", "{{.Repository}}:{{.Tag}}"])
            #expect(images.stdout == "local/busybox:1\n", "\(images.stdout)")
        }

        // The steps that finished were kept: a rebuild resumes after them.
        try "FROM local/busybox:1\nRUN echo first > /first\nRUN echo done > /done\n"
            .write(toFile: work + "/context/Dockerfile", atomically: true, encoding: .utf8)
        let rebuilt = try cli.run(["build", "-t", "whole:1", work + "/context"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(rebuilt.stdout.components(separatedBy: "Using cache").count == 2, "\(rebuilt.stdout)")
    }
}
