import ArgumentParser
import CaissonJSON
import CLIFormatting
import Images

/// `caisson search TERM`: repositories whose name holds TERM in the catalogs of the
/// registry TERM names (`HOST/PART`, `HOST/` for all) or of registries.conf's
/// unqualified-search registries, in docker's table (NAME, DESCRIPTION, STARS, OFFICIAL)
/// or a Go template. Registries that could not be searched are said on standard error
/// when others answered; when none did, the command fails naming each.
struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search registries' catalogs for images.", usage: "caisson search [OPTIONS] TERM")
    @OptionGroup(title: "Global Options") var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Filter output based on conditions provided (stars=N, is-official=BOOL, is-automated=BOOL).")
    var filter: [String] = []
    @Option(help: "Pretty-print search using a Go template ({{.Name}}, {{.Description}}, {{.StarCount}}, {{.IsOfficial}}, {{.IsAutomated}}, {{.Index}}, {{json .}}).")
    var format: String?
    @Option(help: "Max number of search results (1 to 100; default 25).")
    var limit: Int?
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output.")
    var noTrunc = false
    @Argument(help: "A part of a repository's name, or HOST/PART to search that registry only (HOST/ lists it all).")
    var term: String

    func run() async throws {
        let service = try global.imageService()
        let limit = self.limit ?? 25
        guard ImageService.searchLimitRange.contains(limit) else {
            throw CLIError.usage("invalid argument \"\(limit)\" for \"--limit\" flag: limit \(limit) is outside the range of [1, 100]")
        }
        let parsedFilter: ImageSearchFilter
        do {
            parsedFilter = try ImageSearchFilter.parse(filter.map { item in
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts.first ?? "", parts.count > 1 ? parts[1] : "")
            })
        } catch {
            throw CLIError.usage("invalid argument for \"--filter\" flag: \(error.description)")
        }
        let template = try FormatTemplate(format ?? "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}")
        let term = self.term
        let outcome = try await withRegistryClient(service) { client in
            try await service.search(term, limit: limit, filter: parsedFilter, client: client)
        }
        for failure in outcome.failures { writeError("WARNING: cannot search \(failure)\n") }
        var lines: [String] = []
        if template.isTable { lines.append(template.header(["StarCount": "STARS", "IsOfficial": "OFFICIAL", "IsAutomated": "AUTOMATED"])) }
        for result in outcome.results {
            let description = noTrunc || result.description.count <= 45 ? result.description : result.description.prefix(44) + "…"
            let fields: [(String, String)] = [
                ("Name", result.name), ("Description", description), ("StarCount", String(result.stars)),
                ("IsOfficial", result.official ? "[OK]" : ""), ("IsAutomated", result.automated ? "[OK]" : ""),
                ("Index", result.index),
            ]
            var json = JSONObject()
            for (key, value) in fields { json.set(key, .string(value)) }
            lines.append(try template.render(fields, json: json))
        }
        printOut(template.isTable ? TabAlign.align(lines) : lines.map { $0 + "\n" }.joined())
    }
}
