import Foundation
import Testing

/// `caisson build`'s output: on a terminal (a pty from `script`), the live view with its
/// header, numbered steps, timings, CACHED and ERROR marks and the running step's output;
/// elsewhere the plain STEP lines.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BuildProgressTests {
    @Test func aTerminalGetsTheLiveViewAndAPipeThePlainLines() throws {
        let workspace = try BuildWorkspace("build-progress")
        defer { workspace.cleanUp() }
        let (cli, work) = (workspace.cli, workspace.work)
        try "FROM local/busybox:1\nRUN echo first > /f\nRUN echo printed-by-the-step && sleep 0.5 && echo again\nENV A=1\n"
            .write(toFile: work + "/context/Dockerfile", atomically: true, encoding: .utf8)
        func onTerminal(_ arguments: String) throws -> String {
            let command = "\(CaissonCLI.binary) build --root \(cli.root)/store --runroot \(cli.runroot) \(arguments) \(work)/context"
            return try Shell.run("/usr/bin/script", ["-qec", command, "/dev/null"]).stdout
        }
        let first = try onTerminal("-t live:1")
        #expect(first.contains("[+] Building") && first.contains("(4/4) FINISHED"), "\(first)")
        #expect(first.contains(" => [3/4] RUN echo printed-by-the-step && sleep 0.5 && echo again"), "\(first)")
        #expect(first.contains(" => => # printed-by-the-step"), "the running step's output: \(first)")
        #expect(first.contains("Successfully tagged live:1"))
        #expect(!first.contains("STEP 1/4"))
        let again = try onTerminal("-t live:1")
        #expect(again.contains(" => CACHED [2/4] RUN echo first > /f") && again.contains(" => CACHED [3/4]"), "\(again)")

        try "FROM local/busybox:1\nRUN echo the-last-words && exit 4\n".write(toFile: work + "/context/Dockerfile", atomically: true, encoding: .utf8)
        let failed = try onTerminal("")
        #expect(failed.contains(" => ERROR [2/2] RUN echo the-last-words && exit 4") && failed.contains("FAILED"), "\(failed)")
        #expect(failed.contains(" => => # the-last-words"), "\(failed)")
        #expect(failed.contains("exit status 4"), "\(failed)")

        // Not a terminal: plain lines, or the view when asked for; bad values refused.
        let plain = try cli.run(["build", "--build-arg", "NOT_DECLARED=1", "--build-arg", "HTTP_PROXY=x", work + "/context"])
        #expect(plain.stdout.contains("STEP 2/2: RUN echo the-last-words") && plain.stdout.contains("the-last-words\n"), "\(plain.stdout)")
        // A build arg no ARG declares is reported, as buildah does (the proxy variables never are).
        #expect(plain.stderr.contains("[Warning] one or more build args were not consumed: [NOT_DECLARED]"), "\(plain.stderr)")
        #expect(!plain.stderr.contains("[+] Building"))
        let forced = try cli.run(["build", "--progress", "tty", work + "/context"])
        #expect(forced.stderr.contains("[+] Building") && forced.stderr.contains("ERROR [2/2]"), "\(forced.stderr)")
        let bad = try cli.run(["build", "--progress", "fancy", work + "/context"])
        #expect(bad.status == 125 && bad.stderr.contains("use auto, plain or tty"), "\(bad.stderr)")
    }
}
