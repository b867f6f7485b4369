@testable import Dockerfile
import Testing

/// Parses `text` (a whole Dockerfile).
func parse(_ text: String, file: String = "Dockerfile") throws -> Dockerfile {
    try Dockerfile.parse(text, file: file)
}

/// The instructions of the first stage of `FROM scratch` followed by `text`.
func instructions(_ text: String) throws -> [Instruction] {
    try parse("FROM scratch\n" + text).stages[0].instructions
}

/// The single instruction `text` after `FROM scratch`.
func instruction(_ text: String) throws -> Instruction.Kind {
    let list = try instructions(text)
    #expect(list.count == 1)
    return list[0].kind
}

/// The error parsing `text` raises, as `file:line: message`.
func parseError(_ text: String, file: String = "Dockerfile") -> DockerfileError? {
    do {
        _ = try Dockerfile.parse(text, file: file)
        return nil
    } catch {
        return error
    }
}

extension Dictionary where Key == String, Value == String {
    static let buildkitTestEnv: [String: String] = ["PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""]
}
