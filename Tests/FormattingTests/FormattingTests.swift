import CaissonJSON
import CLIFormatting
import Testing

/// `--format` templates and tables (the CLIFormatting module), with the input that
/// crashed them, found while writing their fuzz target (Fuzz/Sources/format).
@Suite struct FormattingTests {
    @Test("templates: fields, nested JSON, json, table headers")
    func templates() throws {
        guard case .object(let row)? = try? JSONParser.parse(Array(#"{"State":{"Running":true},"Labels":{"a":"b"}}"#.utf8)) else {
            Issue.record("fixture")
            return
        }
        let template = try FormatTemplate(parsing: "table {{.Names}}\\t{{.State.Running}}\\t{{json .Labels}}")
        #expect(template.isTable)
        #expect(try template.rendering([("Names", "web")], json: row) == "web\ttrue\t{\"a\":\"b\"}")
        #expect(template.header([:]) == "NAMES\tSTATE.RUNNING\t")
        #expect(throws: FormatTemplateError.self) { try FormatTemplate(parsing: "{{.Names") }
        #expect(throws: FormatTemplateError.self) { try FormatTemplate(parsing: "{{range .}}") }
    }

    /// A value holding a tab gives a `table` row more cells than its header, and the column
    /// widths were indexed past their end.
    @Test("a table row with more cells than the header is aligned, not a crash")
    func rowWiderThanHeader() throws {
        let template = try FormatTemplate(parsing: "table {{.Names}}\\t{{.Command}}")
        let lines = [template.header([:]), try template.rendering([("Names", "web"), ("Command", "sh\t-c")], json: JSONObject())]
        #expect(TabAlign.align(lines) == "NAMES   COMMAND\nweb     sh        -c\n")
        #expect(Table.render([["A"], ["b", "c", "d"]]) == "A\nb   c   d\n")
    }
}
