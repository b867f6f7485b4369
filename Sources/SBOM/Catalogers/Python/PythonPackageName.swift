/// Python package names as PEP 503 compares them: lowercased, each run of `-`, `_` and
/// `.` replaced by one `-` ("Typing_Extensions" and "typing-extensions" are one
/// project). Catalogs keep the name as the metadata spells it; matching uses this.
public enum PythonPackageName {
    public static func normalized(_ name: String) -> String {
        var result = ""
        var inSeparatorRun = false
        for character in name {
            if character == "-" || character == "_" || character == "." {
                if !inSeparatorRun { result.append("-") }
                inSeparatorRun = true
            } else {
                result += character.isASCII ? character.lowercased() : String(character)
                inSeparatorRun = false
            }
        }
        return result
    }
}
