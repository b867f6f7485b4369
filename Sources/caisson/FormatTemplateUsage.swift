import CaissonJSON
import CLIFormatting

/// A `--format` template that cannot be parsed or rendered is a usage error (exit 125).
extension FormatTemplate {
    init(_ raw: String) throws(CLIError) {
        do { try self.init(parsing: raw) } catch { throw .usage(error.description) }
    }

    func render(_ fields: [(String, String)], json: JSONObject) throws(CLIError) -> String {
        do { return try rendering(fields, json: json) } catch { throw .usage(error.description) }
    }
}
