#if canImport(Glibc)
import Glibc
#endif
import CaissonSys

/// A secret given to a build with `--secret`: `RUN --mount=type=secret` exposes it to one
/// step as a file on a tmpfs (or an environment variable), and it never reaches a layer,
/// the image config or the cache key. Read when the build starts, so a missing file is
/// reported before any step runs.
public struct BuildSecret: Sendable, Equatable {
    public let id: String
    public let value: [UInt8]

    public init(id: String, value: [UInt8]) {
        self.id = id
        self.value = value
    }

    /// Parses `--secret` as docker buildx and buildah read it: `id=ID,src=PATH` (or
    /// `source=`), `id=ID,env=VARIABLE`, `type=file|env`; with neither src nor env, the
    /// variable named ID if it is set, else the file named ID.
    public static func parse(_ specification: String,
                             environment: [String: String]) throws(BuildError) -> BuildSecret {
        var id: String?
        var type: String?
        var file: String?
        var variable: String?
        for field in specification.split(separator: ",", omittingEmptySubsequences: false) {
            guard let equals = field.firstIndex(of: "=") else {
                throw .invalid("--secret \(specification): field \"\(field)\" must be a key=value pair")
            }
            let key = field[..<equals].lowercased()
            let value = String(field[field.index(after: equals)...])
            switch key {
            case "id": id = value
            case "type":
                guard value == "file" || value == "env" else {
                    throw .invalid("--secret \(specification): unsupported secret type \"\(value)\" (file or env)")
                }
                type = value
            case "src", "source": file = value
            case "env": variable = value
            default: throw .invalid("--secret \(specification): unexpected key \"\(key)\"")
            }
        }
        guard let id, !id.isEmpty else { throw .invalid("--secret \(specification): id= is required") }
        if type == "env" && variable == nil {
            variable = file ?? id
            file = nil
        }
        if file == nil && variable == nil {
            if type != "file" && environment[id] != nil { variable = id } else { file = id }
        }
        if let variable {
            guard let value = environment[variable] else {
                throw .invalid("--secret \(specification): environment variable \(variable) is not set")
            }
            return BuildSecret(id: id, value: Array(value.utf8))
        }
        let path = file ?? id
        do {
            return BuildSecret(id: id, value: try Files.readBytes(path))
        } catch {
            throw .invalid("--secret \(specification): cannot read secret file \(path): \(error)")
        }
    }
}
