import OCISpec
import RuntimeCore

/// The bytes runc writes for the documents callers parse: its container state (the
/// entries of `list --format json` and the `state` document) and `ps --format json`'s
/// pid array, as Go's encoding/json lays them out. Field order is runc's struct order,
/// map keys are sorted, `<`, `>` and `&` are escaped as `\u003c`..., an empty list is
/// `null`, and times are RFC 3339 with trailing zeros of the fraction dropped.
enum RuncJSON {
    /// `list --format json`: one line, `null` when there is no container.
    static func list(_ states: [ContainerStateDocument]) -> String {
        guard !states.isEmpty else { return "null\n" }
        return "[" + states.map { object(fields($0), indent: nil) }.joined(separator: ",") + "]\n"
    }

    /// `state`: two-space indentation and no final newline, as runc prints it.
    static func state(_ state: ContainerStateDocument) -> String {
        object(fields(state), indent: "")
    }

    /// `ps --format json`: `[1,2]` on one line, `null` when the container has no process.
    static func pids(_ pids: [Int32]) -> String {
        guard !pids.isEmpty else { return "null\n" }
        return "[" + pids.map(String.init).joined(separator: ",") + "]\n"
    }

    /// One field's name and its already encoded value.
    private typealias Field = (name: String, value: Value)

    private enum Value {
        case scalar(String)
        case map([String: String])
    }

    /// runc's containerState: annotations omitted when empty; its `owner` is filled by
    /// `list` (the state directory's owner) and left empty by `state`.
    private static func fields(_ state: ContainerStateDocument) -> [Field] {
        var fields: [Field] = [
            ("ociVersion", .scalar(quote(state.ociVersion))),
            ("id", .scalar(quote(state.id))),
            ("pid", .scalar(String(state.pid))),
            ("status", .scalar(quote(state.status.rawValue))),
            ("bundle", .scalar(quote(state.bundle))),
            ("rootfs", .scalar(quote(state.rootfs))),
            ("created", .scalar(quote(goTime(state.created)))),
        ]
        if let annotations = state.annotations, !annotations.isEmpty { fields.append(("annotations", .map(annotations))) }
        fields.append(("owner", .scalar(quote(state.owner))))
        return fields
    }

    /// Compact when `indent` is nil, else indented by two spaces a level from `indent`.
    private static func object(_ fields: [Field], indent: String?) -> String {
        func render(_ value: Value, _ level: String?) -> String {
            switch value {
            case .scalar(let text): return text
            case .map(let map):
                return object(map.keys.sorted().map { ($0, .scalar(quote(map[$0]!))) }, indent: level)
            }
        }
        guard let indent else {
            return "{" + fields.map { quote($0.name) + ":" + render($0.value, nil) }.joined(separator: ",") + "}"
        }
        let inner = indent + "  "
        let body = fields.map { inner + quote($0.name) + ": " + render($0.value, inner) }.joined(separator: ",\n")
        return "{\n" + body + "\n" + indent + "}"
    }

    /// A JSON string as Go's encoding/json writes it (HTML-safe, U+2028/U+2029 escaped).
    static func quote(_ text: String) -> String { JSONText.quote(text, goHTMLSafe: true) }

    /// Go's time.RFC3339Nano: the fraction's trailing zeros dropped, and the dot with them
    /// when nothing is left ("...:05.120Z" is "...:05.12Z", "...:05.000Z" is "...:05Z").
    static func goTime(_ text: String) -> String {
        guard text.hasSuffix("Z"), let dot = text.lastIndex(of: ".") else { return text }
        let fraction = text[text.index(after: dot)..<text.index(before: text.endIndex)]
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return text }
        let kept = fraction.reversed().drop(while: { $0 == "0" }).reversed()
        return String(text[..<dot]) + (kept.isEmpty ? "" : "." + String(kept)) + "Z"
    }
}
