import Builder
import CaissonSys
import Foundation
import ImageSpec
import Images
import Testing

/// Independent stages run side by side: two stages meet at a rendezvous only possible if
/// both run at once; a stage that fails stops the one beside it, and its error is the
/// one reported.
extension ImageBuilderTests {
    @Test func independentStagesRunSideBySide() async throws {
        let (service, root) = try Self.busyboxStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try Scratch.directory("build-parallel")
        let id = Scratch.uniqueID("rendezvous")
        // Each stage announces itself in a shared cache mount and waits (5 s at most) for the other.
        func stage(_ me: String, _ other: String) -> String {
            """
            FROM build/busybox:1 AS \(me)
            RUN --mount=type=cache,id=\(id),target=/rv touch /rv/\(me) && i=0 && while [ ! -e /rv/\(other) ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done && test -e /rv/\(other) && echo met > /\(me)
            """
        }
        try """
        \(stage("left", "right"))
        \(stage("right", "left"))
        FROM build/busybox:1
        COPY --from=left /left /left
        COPY --from=right /right /right
        """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let image = try await Self.builder(service, context: context, output: "/dev/null").build()
        #expect(try Self.readImageFile(service, image, "/left") == "met\n")
        #expect(try Self.readImageFile(service, image, "/right") == "met\n")

        // A failing stage stops its sibling at once (its long sleep killed), and is what the error says.
        let sleep = "sleep \(6000 + Int.random(in: 0..<3000))"
        try """
        FROM build/busybox:1 AS slow
        RUN \(sleep) && echo slow > /slow
        FROM build/busybox:1 AS broken
        RUN echo about to fail && exit 3
        FROM build/busybox:1
        COPY --from=slow /slow /slow
        COPY --from=broken /etc /broken
        """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let started = Date()
        do {
            _ = try await Self.builder(service, context: context, output: "/dev/null").build()
            Issue.record("a failing stage must fail the build")
        } catch {
            #expect("\(error)".contains("exit status 3") && "\(error)".contains("about to fail"), "\(error)")
        }
        #expect(Date().timeIntervalSince(started) < 30, "the sibling stage was not stopped")
        #expect(BuildInterruptTests.processes(matching: sleep).isEmpty)
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(service.root + "/"))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: service.root + "/build")) ?? []
        #expect(left.isEmpty, "left in the build area: \(left)")
    }
}
