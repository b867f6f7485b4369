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
    @Test("lists and maps print as Go's templates print them: [a b], map[k:v] with sorted keys")
    func goDefaultPrinting() throws {
        guard case .object(let row)? = try? JSONParser.parse(Array(#"{"Args":["-c","echo hi"],"Labels":{"z":"1","a":"b"},"Mixed":[1,true,null,["x"]],"Empty":[]}"#.utf8)) else {
            Issue.record("fixture")
            return
        }
        let template = try FormatTemplate(parsing: "{{.Args}}|{{.Labels}}|{{.Mixed}}|{{.Empty}}")
        #expect(try template.rendering([], json: row) == "[-c echo hi]|map[a:b z:1]|[1 true <nil> [x]]|[]")
    }

    @Test("docker's template functions: index of maps and lists, len, join, upper, lower, title, json, pipes; mistakes named")
    func functions() throws {
        guard case .object(let row)? = try? JSONParser.parse(Array(#"{"Config":{"Labels":{"tier":"web"},"Cmd":["sh","-c"]},"Names":"box","Empty":null}"#.utf8)) else {
            Issue.record("fixture")
            return
        }
        func render(_ text: String) throws -> String { try FormatTemplate(parsing: text).rendering([], json: row) }
        #expect(try render(#"{{index .Config.Labels "tier"}}|{{index .Config.Labels "none"}}|{{index .Config.Cmd 1}}"#) == "web|<no value>|-c")
        #expect(try render(#"{{len .Config.Cmd}} {{join .Config.Cmd "+"}} {{upper .Names}} {{.Names | title}} {{.Config.Labels | json}}"#)
                == #"2 sh+-c BOX Box {"tier":"web"}"#)
        #expect(try render(#"{{index . "Names" | upper | lower}}"#) == "box")
        #expect(throws: FormatTemplateError.self) { try render("{{index .Config.Cmd 7}}") }
        #expect(throws: FormatTemplateError.self) { try render("{{index .Empty 0}}") }
        #expect(throws: FormatTemplateError.self) { try FormatTemplate(parsing: "{{nosuch .Names}}") }
        #expect(throws: FormatTemplateError.self) { try FormatTemplate(parsing: #"{{index .Names "unterminated}}"#) }
    }

    @Test("blocks: range over lists and maps with else, if/else on Go's truth, with; mistakes named")
    func blocks() throws {
        guard case .object(let row)? = try? JSONParser.parse(Array(#"{"Mounts":[{"Type":"volume","Destination":"/d"},{"Type":"bind","Destination":"/b"}],"Labels":{"b":"2","a":"1"},"Env":[],"Running":true,"Count":0,"Args":["x","y"]}"#.utf8)) else {
            Issue.record("fixture")
            return
        }
        func render(_ text: String) throws -> String { try FormatTemplate(parsing: text).rendering([("Name", "web")], json: row) }
        #expect(try render("{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}") == "volume:/d bind:/b ")
        #expect(try render("{{range .Labels}}{{.}}{{end}}|{{range .Env}}e{{else}}none{{end}}|{{range .Args}}<{{.}}>{{end}}") == "12|none|<x><y>")
        #expect(try render("{{if .Running}}up{{else}}down{{end}} {{if .Count}}n{{else}}zero{{end}} {{.Name}}") == "up zero web")
        #expect(try render("{{with .Labels}}{{.a}}{{end}}{{with .Env}}x{{else}}-{{end}}") == "1-")
        #expect(try render("{{range .Mounts}}{{if .Type | upper | len}}{{upper .Type}}{{end}}{{end}}") == "VOLUMEBIND")
        for bad in ["{{range .Mounts}}", "{{end}}", "{{if .Running}}x{{else}}y", "{{range}}{{end}}",
                    String(repeating: "{{if .Running}}", count: 40) + String(repeating: "{{end}}", count: 40)] {
            #expect(throws: FormatTemplateError.self, "\(bad)") { try FormatTemplate(parsing: bad) }
        }
        #expect(throws: FormatTemplateError.self) { try render("{{range .Running}}x{{end}}") }
    }

    @Test("variables: range $i, $e and $k, $v, := and =, $ and $.Field, with/if heads, scopes; mistakes named")
    func variables() throws {
        guard case .object(let row)? = try? JSONParser.parse(Array(#"{"Mounts":[{"Type":"volume"},{"Type":"bind"}],"Labels":{"b":"2","a":"1"},"Env":[],"Running":true,"Args":["x","y"]}"#.utf8)) else {
            Issue.record("fixture")
            return
        }
        func render(_ text: String) throws -> String { try FormatTemplate(parsing: text).rendering([("Name", "web")], json: row) }
        #expect(try render("{{range $i, $m := .Mounts}}{{$i}}:{{$m.Type}} {{end}}") == "0:volume 1:bind ")
        #expect(try render("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}|{{range $v := .Args}}{{$v}}{{end}}") == "a=1;b=2;|xy")
        #expect(try render("{{$n := .Name}}{{range .Args}}{{$n}}-{{.}} {{end}}{{range .Args}}{{$.Name}}{{end}}") == "web-x web-y webweb")
        // `=` changes the variable declared outside the block; the change outlives the block.
        #expect(try render("{{$last := 0}}{{range .Args}}{{$last = .}}{{end}}{{$last}}") == "y")
        #expect(try render("{{with $l := .Labels}}{{$l.a}}{{.b}}{{end}} {{if $r := .Running}}{{$r}}{{end}}") == "12 true")
        // An empty range's else sees the head's variables holding the pipeline's value, as in Go.
        #expect(try render("{{range $i, $e := .Env}}x{{else}}{{len $i}}{{end}} {{range $k, $v := .Labels}}{{$k | upper}}{{end}}") == "0 AB")
        #expect(try render(#"{{json $.Args}} {{index $.Labels "a"}} {{$.Running}}"#) == #"["x","y"] 1 true"#)
        for bad in ["{{$x}}", "{{$x = 1}}", "{{range .Args}}{{$y := .}}{{end}}{{$y}}", "{{range $a, $b = .Args}}{{end}}",
                    "{{with $a, $b := .Labels}}{{end}}", "{{$ := 1}}x{{$}}", "{{range $a, := .Args}}{{end}}", "{{$x :=}}", "{{$x-y}}"] {
            #expect(throws: FormatTemplateError.self, "\(bad)") { try FormatTemplate(parsing: bad) }
        }
        #expect(throws: FormatTemplateError.self) { try render("{{range $a := .Args}}{{$a.Type}}{{end}}") }
    }

    @Test("a table row with more cells than the header is aligned, not a crash")
    func rowWiderThanHeader() throws {
        let template = try FormatTemplate(parsing: "table {{.Names}}\\t{{.Command}}")
        let lines = [template.header([:]), try template.rendering([("Names", "web"), ("Command", "sh\t-c")], json: JSONObject())]
        #expect(TabAlign.align(lines) == "NAMES   COMMAND\nweb     sh        -c\n")
        #expect(Table.render([["A"], ["b", "c", "d"]]) == "A\nb   c   d\n")
    }

    @Test("Go durations: time.ParseDuration's syntax in, Duration.String's text out")
    func goDurations() {
        #expect(GoDuration.parse("1m30s") == 90_000_000_000)
        #expect(GoDuration.parse("1.5h") == 5_400_000_000_000)
        #expect(GoDuration.parse("300ms") == 300_000_000)
        #expect(GoDuration.parse("-2s") == -2_000_000_000)
        #expect(GoDuration.parse("0") == 0)
        for refused in ["", "1", "s", "1x", "1.2.3s", "--1s"] { #expect(GoDuration.parse(refused) == nil, "\(refused)") }
        let printed: [(Int64, String)] = [(0, "0s"), (1, "1ns"), (1_500, "1.5µs"), (750_000_000, "750ms"), (1_000_000_000, "1s"),
                                          (1_500_000_000, "1.5s"), (60_000_000_000, "1m0s"), (90_000_000_000, "1m30s"),
                                          (3_600_000_000_000, "1h0m0s"), (3_661_000_000_000, "1h1m1s"), (-2_000_000_000, "-2s")]
        for (value, text) in printed { #expect(GoDuration.format(value) == text) }
    }
}
