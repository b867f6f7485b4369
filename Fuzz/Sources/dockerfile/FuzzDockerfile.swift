import Dockerfile
import FuzzSupport

/// Dockerfiles and .dockerignore files as users write them: any bytes parse into a
/// Dockerfile or a `DockerfileError`; a parsed one gives its stage graph (or an error) and
/// every instruction expands against a small environment (or fails with an error). The
/// stages a target needs come before it and name real stages. The same bytes as a
/// .dockerignore give patterns or an error, and matching them never traps.
@_cdecl("fuzz_dockerfile_main")
public func fuzzDockerfileMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzDockerfile)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDockerfile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    ignoreFile(text)
    let words = ShellLexer()
    _ = try? words.expand(text, environment)
    _ = try? words.words(text, environment)

    guard let dockerfile = try? Dockerfile.parse(bytes: bytes) else { return 0 }
    let escape = dockerfile.directives.escape
    for stage in dockerfile.stages {
        for instruction in stage.instructions {
            _ = try? instruction.expanded(environment, escape: escape)
        }
    }
    guard let graph = try? StageGraph(dockerfile, global: environment) else { return 0 }
    guard (try? graph.checkAcyclic()) != nil else { return 0 }
    for target in [nil] + dockerfile.stages.compactMap(\.name) {
        guard let needed = try? graph.stagesNeeded(for: target) else { continue }
        Fuzz.check(needed.allSatisfy { dockerfile.stages.indices.contains($0) }, "stagesNeeded names a stage that does not exist: \(needed)")
        Fuzz.check(Set(needed).count == needed.count, "stagesNeeded names a stage twice: \(needed)")
        if let index = try? graph.stageIndex(target: target) {
            Fuzz.check(needed.last == index, "stagesNeeded(\(target ?? "last")) does not end with its target: \(needed)")
        }
    }
    return 0
}

private func ignoreFile(_ text: String) {
    guard let ignore = try? IgnoreFile(parsing: text) else { return }
    for path in ["a", "a/b/c", ".git", "Dockerfile", "dir/file.txt", "x/../y", ""] {
        _ = ignore.excludes(path)
    }
}

nonisolated(unsafe) private let environment: [String: String] = [
    "A": "1", "EMPTY": "", "SPACES": "a b  c", "PATH": "/usr/bin:/bin", "QUOTE": "\"'", "DOLLAR": "$A",
]
