import CaissonJSON
import FuzzSupport

/// CaissonJSON's parser: any bytes give a value or a `JSONSyntaxError`; a value
/// serialises (compact and indented) to text that parses back to the same value.
@_cdecl("fuzz_json_main")
public func fuzzJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzJSON)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let value: JSONValue
    do { value = try JSONParser.parse(bytes) } catch { return 0 }
    for pretty in [false, true] {
        let text = JSONEncoding.serialize(value, pretty: pretty)
        do {
            let again = try JSONParser.parse(text)
            Fuzz.check(again == value, "round trip (pretty: \(pretty)) changed the value: \(String(decoding: text, as: UTF8.self))")
        } catch {
            Fuzz.fail("serialised JSON does not parse (pretty: \(pretty)): \(error): \(String(decoding: text, as: UTF8.self))")
        }
    }
    return 0
}
