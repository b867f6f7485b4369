import CaissonJSON

/// The variables of a `--format` template as it renders, as Go's templates have them:
/// `$` is the row the template was given; `{{$x := PIPELINE}}` declares one until the end
/// of the enclosing block, `{{$x = PIPELINE}}` assigns one declared before (the new value
/// outlives the block it was assigned in), and `range $i, $e :=`, `with $v :=`, `if $v :=`
/// declare theirs for their body and `else`.
struct TemplateVariables {
    private(set) var entries: [(name: String, value: JSONValue)]
    /// The row's display values (`ps`'s `.Names`, `.Status`, ...), which `$.Name` reads as `.Name` does.
    let rootFields: [(String, String)]

    init(root: JSONValue, fields: [(String, String)]) {
        entries = [("$", root)]
        rootFields = fields
    }

    func value(of name: String) throws(FormatTemplateError) -> JSONValue {
        guard let entry = entries.last(where: { $0.name == name }) else {
            throw FormatTemplateError("template: undefined variable \"\(name)\"")
        }
        return entry.value
    }

    mutating func declare(_ name: String, _ value: JSONValue) {
        entries.append((name, value))
    }

    mutating func assign(_ name: String, _ value: JSONValue) throws(FormatTemplateError) {
        guard let index = entries.lastIndex(where: { $0.name == name }) else {
            throw FormatTemplateError("template: undefined variable \"\(name)\"")
        }
        entries[index].value = value
    }

    /// The scope mark a block returns to at its end (its declarations go, assignments stay).
    var mark: Int { entries.count }

    mutating func pop(to mark: Int) {
        if entries.count > mark { entries.removeLast(entries.count - mark) }
    }
}

/// The variables a template action declares or assigns: `$x :=` or `$x =` before a
/// pipeline, or `$i, $e :=` at the head of a `range`.
struct TemplateDeclaration: Sendable, Equatable {
    let names: [String]
    /// `=`: the variable exists and takes a new value; `:=`: a new variable.
    let assigns: Bool
    /// The pipeline after the operator.
    let pipeline: String

    /// nil when `text` does not start with a declaration; an error when it starts like one
    /// but is not (`$x, $y = ...`, `$ := ...`).
    init?(parsing text: String, allowingTwo: Bool) throws(FormatTemplateError) {
        var rest = Substring(text)
        func variable() -> String? {
            guard rest.first == "$" else { return nil }
            let name = rest.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            guard !name.isEmpty else { return nil }
            rest = rest.dropFirst(name.count + 1)
            return "$" + name
        }
        func skipSpaces() { rest = rest.drop { $0 == " " || $0 == "\t" } }
        guard let first = variable() else { return nil }
        var names = [first]
        skipSpaces()
        if rest.first == "," {
            rest = rest.dropFirst()
            skipSpaces()
            guard allowingTwo else { throw FormatTemplateError("template: too many declarations in {{\(text)}}") }
            guard let second = variable() else { throw FormatTemplateError("template: a variable must follow \(first), in {{\(text)}}") }
            names.append(second)
            skipSpaces()
        }
        let assigns: Bool
        if rest.hasPrefix(":=") {
            assigns = false
            rest = rest.dropFirst(2)
        } else if rest.hasPrefix("="), !rest.hasPrefix("==") {
            assigns = true
            rest = rest.dropFirst()
        } else if names.count == 2 {
            throw FormatTemplateError("template: missing := after \(names.joined(separator: ", ")) in {{\(text)}}")
        } else {
            return nil  // `$x` or `$x.Field` used as a value
        }
        if assigns, names.count == 2 { throw FormatTemplateError("template: two variables can only be declared with := in {{\(text)}}") }
        let pipeline = String(rest).trimmed()
        guard !pipeline.isEmpty else { throw FormatTemplateError("template: missing value for \(names.joined(separator: ", ")) in {{\(text)}}") }
        self.names = names
        self.assigns = assigns
        self.pipeline = pipeline
    }
}
