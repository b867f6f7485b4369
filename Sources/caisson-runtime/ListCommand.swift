import CaissonSys
import OCISpec
import RuntimeCore

/// `list`: the containers under --root, as runc prints them: a table (tabwriter columns,
/// RFC 3339 times with the fraction's trailing zeros dropped), one compact JSON line
/// (`null` for none), or with -q the ids alone.
func listCommand(_ arguments: ArgumentScanner, _ runtime: Runtime) throws -> Int32 {
    if let extra = arguments.positionals.first {
        throw ArgumentScanner.UsageError(description: "list: unexpected argument \"\(extra)\"")
    }
    let containers = runtime.list()
    if arguments.isSet("quiet") {
        printText(containers.map { $0.id + "\n" }.joined())
        return 0
    }
    switch arguments.value("format") ?? "table" {
    case "table":
        var rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
        rows += containers.map {
            [$0.id, String($0.pid), $0.status.rawValue, $0.bundle, RuncJSON.goTime($0.created), $0.owner]
        }
        printText(TabColumns.list.alignBlock(rows).map { $0 + "\n" }.joined())
    case "json":
        printText(RuncJSON.list(containers))
    default:
        throw RuntimeError.usage("invalid format option")
    }
    return 0
}
