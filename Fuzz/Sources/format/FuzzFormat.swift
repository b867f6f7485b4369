import CaissonJSON
import CLIFormatting
import FuzzSupport

/// `--format` templates as users type them: parsed into pieces or a
/// `FormatTemplateError`, then rendered for a container-like row (fields and nested
/// JSON) and as a table header. Errors are fine; crashes are not.
@_cdecl("fuzz_format_main")
public func fuzzFormatMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzFormat)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFormat(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: Fuzz.bytes(data, size), as: UTF8.self)
    _ = text.trimmed()
    _ = Time.parseRFC3339(text)
    guard let template = try? FormatTemplate(parsing: text) else { return 0 }
    _ = try? template.rendering(fields, json: row)
    _ = try? template.rendering([], json: JSONObject())
    _ = template.header(["ID": "CONTAINER ID", "RunningFor": "CREATED"])
    if template.isTable {
        _ = TabAlign.align([template.header([:]), (try? template.rendering(fields, json: row)) ?? ""])
    }
    return 0
}

nonisolated(unsafe) private let fields: [(String, String)] = [
    ("ID", "0123456789ab"), ("Names", "web"), ("Image", "busybox"), ("Status", "Up 2 minutes"), ("Ports", ""),
    ("Command", "\"sh\t-c 'sleep 1'\""), ("Labels", "a=b,tab=x\ty"),
]

nonisolated(unsafe) private let row: JSONObject = {
    let text = """
    {"Id":"0123456789abcdef","Names":["web"],"Config":{"Env":["A=1"],"Labels":{"a.b":"c"},"Tty":false},
     "State":{"Running":true,"Pid":42,"ExitCode":0},"Mounts":[],"Size":null,"Created":"2024-01-02T03:04:05Z"}
    """
    guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else { Fuzz.fail("fixture") }
    return object
}()
