import CaissonJSON
import Dockerfile
import ImageSpec

/// The `created_by` line of a configuration-only step, in BuildKit's spirit (the
/// instruction as it took effect, after substitution).
enum BuildKitHistory {
    static func json(_ list: [String]) -> String {
        (try? JSONEncoding.encode(list)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func line(for instruction: Instruction, config: ImageConfig.RunConfig) -> String {
        switch instruction.kind {
        case .cmd: return "CMD " + json(config.Cmd ?? [])
        case .entrypoint: return "ENTRYPOINT " + json(config.Entrypoint ?? [])
        case .env(let pairs): return "ENV " + pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        case .label(let pairs): return "LABEL " + pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        case .expose(let ports): return "EXPOSE " + ports.joined(separator: " ")
        case .volume(let paths): return "VOLUME " + json(paths)
        case .user(let user): return "USER " + user
        case .workdir: return "WORKDIR " + (config.WorkingDir ?? "/")
        case .shell(let shell): return "SHELL " + json(shell)
        case .stopSignal(let signal): return "STOPSIGNAL " + signal
        case .healthcheck(let check): return "HEALTHCHECK " + json(check.configTest)
        case .onbuild(let trigger): return "ONBUILD " + trigger.expression
        case .maintainer(let name): return "MAINTAINER " + name
        default: return instruction.original
        }
    }
}
