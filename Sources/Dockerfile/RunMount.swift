/// One `RUN --mount=...`: a cache, bind, secret, tmpfs or ssh mount for that step only.
/// It is parsed twice, as BuildKit does: at parse time with the values as written (so
/// bad keys and types are reported with the line, and values holding `$` are left for
/// later), and again by the builder with a substituting expander.
public struct RunMount: Sendable, Equatable {
    /// What is mounted: context or stage files, a persistent cache, a secret, a tmpfs, the SSH agent.
    public enum MountType: String, Sendable, CaseIterable {
        case bind, cache, tmpfs, secret, ssh
    }

    /// How concurrent builds share one cache mount.
    public enum Sharing: String, Sendable, CaseIterable {
        case shared, `private`, locked
    }

    public var type: MountType = .bind
    /// `from=`: a stage name, a stage index or an image the mount's source is taken from.
    public var from: String?
    public var source: String?
    public var target: String?
    public var readOnly: Bool = true
    /// `size=` of a tmpfs, in bytes.
    public var sizeLimit: Int64?
    /// `id=`: the cache id, or the secret/ssh id.
    public var id: String?
    public var sharing: Sharing?
    public var required: Bool = false
    /// `env=`: the environment variable a secret is exposed as.
    public var env: String?
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// The `--mount` value as written.
    public var specification: String

    /// Parses a `--mount` value. With `expand` nil (parse time), key=value fields whose
    /// value needs substitution are skipped, as in BuildKit; `from=` may not use variables.
    public init(parsing spec: String, expand: ((String) throws(DockerfileError) -> String)? = nil) throws(DockerfileError) {
        specification = spec
        let fields: [String]
        do {
            fields = try Self.csvFields(spec)
        } catch {
            throw .substitution(nil, "failed to parse csv mounts: \(error.message)")
        }
        var roAuto = true
        func fail(_ m: String) -> DockerfileError { .substitution(nil, m) }
        for field in fields {
            let key: String
            var value: String
            if let eq = field.firstIndex(of: "=") {
                key = field[..<eq].lowercased()
                value = String(field[field.index(after: eq)...])
            } else {
                key = field.lowercased()
                guard expand != nil else { continue }
                switch key {
                case "readonly", "ro":
                    readOnly = true
                    roAuto = false
                case "readwrite", "rw":
                    readOnly = false
                    roAuto = false
                case "required":
                    guard type == .secret || type == .ssh else {
                        throw fail("unexpected key '\(key)' for mount type '\(type.rawValue)'")
                    }
                    required = true
                default:
                    throw fail("invalid field '\(field)' must be a key=value pair")
                }
                continue
            }
            if let expand {
                value = try expand(value)
            } else if key == "from" {
                if let dollar = value.firstIndex(of: "$"), value.index(after: dollar) != value.endIndex {
                    throw fail("'\(key)' doesn't support variable expansion, define alias stage instead")
                }
            } else if value.contains("$") {
                continue  // evaluated by the builder, with the stage's variables
            }
            switch key {
            case "type":
                guard let t = MountType(rawValue: value.lowercased()) else { throw fail("unsupported mount type \"\(value)\"") }
                type = t
            case "from": from = value
            case "source", "src": source = value
            case "target", "dst", "destination": target = value
            case "readonly", "ro":
                guard let b = Self.goBool(value) else { throw fail("invalid value for \(key): \(value)") }
                readOnly = b
                roAuto = false
            case "readwrite", "rw":
                guard let b = Self.goBool(value) else { throw fail("invalid value for \(key): \(value)") }
                readOnly = !b
                roAuto = false
            case "required":
                guard type == .secret || type == .ssh else {
                    throw fail("unexpected key '\(key)' for mount type '\(type.rawValue)'")
                }
                guard let b = Self.goBool(value) else { throw fail("invalid value for \(key): \(value)") }
                required = b
            case "size":
                guard type == .tmpfs else { throw fail("unexpected key '\(key)' for mount type '\(type.rawValue)'") }
                guard let bytes = Self.ramInBytes(value) else { throw fail("invalid value for \(key): \(value)") }
                sizeLimit = bytes
            case "id": id = value
            case "sharing":
                guard let s = Sharing(rawValue: value.lowercased()) else { throw fail("unsupported sharing value \"\(value)\"") }
                sharing = s
            case "mode":
                guard let m = UInt32(value, radix: 8) else { throw fail("invalid value \(value) for mode") }
                mode = m
            case "uid":
                guard let u = UInt32(value) else { throw fail("invalid value \(value) for uid") }
                uid = u
            case "gid":
                guard let g = UInt32(value) else { throw fail("invalid value \(value) for gid") }
                gid = g
            case "env": env = value
            default:
                throw fail("unexpected key '\(key)' in '\(field)'")
            }
        }
        if !(type == .secret || type == .ssh || type == .cache) {
            if mode != nil { throw fail("mode not allowed for \"\(type.rawValue)\" type mounts") }
            if uid != nil { throw fail("uid not allowed for \"\(type.rawValue)\" type mounts") }
            if gid != nil { throw fail("gid not allowed for \"\(type.rawValue)\" type mounts") }
        }
        if roAuto { readOnly = !(type == .cache || type == .tmpfs) }
        if type == .secret {
            if from != nil { throw fail("secret mount should not have a from") }
            if sharing != nil { throw fail("secret mount should not define sharing") }
            // Checked only once values are known (a `$` value is skipped at parse time).
            if expand != nil || !spec.contains("$") {
                if source == nil && target == nil && id == nil {
                    throw fail("invalid secret mount. one of source, target required")
                }
                if source != nil && id != nil { throw fail("both source and id can't be set") }
            }
        }
        if sharing != nil && type != .cache {
            throw fail("invalid cache sharing set for \(type.rawValue) mount")
        }
    }

    /// Go's `strconv.ParseBool`.
    static func goBool(_ s: String) -> Bool? {
        switch s {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// docker/go-units' `RAMInBytes`: `^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`, binary multiples.
    static func ramInBytes(_ s: String) -> Int64? {
        var rest = Array(s.unicodeScalars)[...]
        var number = ""
        while let c = rest.first, ("0"..."9").contains(c) || c == "." {
            number.unicodeScalars.append(c)
            rest = rest.dropFirst()
        }
        guard let first = number.unicodeScalars.first, ("0"..."9").contains(first), let value = Double(number) else { return nil }
        if rest.first == " " { rest = rest.dropFirst() }
        var multiplier: Double = 1
        if let c = rest.first, let index = Array("kmgtp".unicodeScalars).firstIndex(of: Unicode.Scalar(c.value | 0x20) ?? c) {
            multiplier = Double(Int64(1) << (10 * (index + 1)))
            rest = rest.dropFirst()
        }
        if let c = rest.first, c == "i" || c == "I" { rest = rest.dropFirst() }
        if let c = rest.first, c == "b" || c == "B" { rest = rest.dropFirst() }
        guard rest.isEmpty else { return nil }
        let bytes = value * multiplier
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }

    /// Comma-separated fields; a field may be double-quoted (`"a,b"`, `""` for a quote).
    static func csvFields(_ s: String) throws(SubstitutionFailure) -> [String] {
        var fields: [String] = []
        let scalars = Array(s.unicodeScalars)
        var i = 0
        if scalars.isEmpty { return [""] }
        while i <= scalars.count {
            var field = String.UnicodeScalarView()
            if i < scalars.count, scalars[i] == "\"" {
                i += 1
                var closed = false
                while i < scalars.count {
                    if scalars[i] == "\"" {
                        if i + 1 < scalars.count, scalars[i + 1] == "\"" {
                            field.append("\"")
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    field.append(scalars[i])
                    i += 1
                }
                guard closed else { throw SubstitutionFailure(message: "extraneous or missing \" in quoted-field") }
                guard i == scalars.count || scalars[i] == "," else {
                    throw SubstitutionFailure(message: "extraneous or missing \" in quoted-field")
                }
            } else {
                while i < scalars.count, scalars[i] != "," {
                    field.append(scalars[i])
                    i += 1
                }
            }
            fields.append(String(field))
            i += 1
        }
        return fields
    }
}
