#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import CLIFormatting
import Engine
import ImageSpec
import Images

/// docker's image `filters` (`docker images --filter`, `docker image prune --filter`):
/// `dangling` (true/false), `reference` (a name pattern, `*` within a path component),
/// `label`/`label!` (KEY or KEY=VALUE), `before`/`since` (another image) and, for prune,
/// `until` (a timestamp or a duration before now). Every named filter must match, any of
/// a filter's values may; `label` values must all match, as docker does.
struct ImageFilters: Sendable {
    var dangling: Bool?
    var references: [String] = []
    var labels: [String] = []
    var excludedLabels: [String] = []
    /// Created before (`before`) or after (`since`) these times (the named images').
    var before: Double?
    var since: Double?
    var until: Double?

    /// `allowed`: the filter names this endpoint takes (docker: list and prune differ).
    init(_ text: String?, allowed: Set<String>, service: ImageService) throws(DockerAPIError) {
        guard let text, !text.isEmpty else { return }
        guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else {
            throw .badParameter("invalid filters: \(text)")
        }
        for key in object.keys {
            guard allowed.contains(key) else { throw .badParameter("invalid filter '\(key)'") }
            let values: [String]
            switch object[key] {
            case .array(let items)?: values = items.compactMap { if case .string(let s) = $0 { return s }; return nil }
            case .object(let map)?: values = map.keys
            default: throw .badParameter("invalid filter '\(key)'")
            }
            switch key {
            case "dangling":
                guard values.count == 1, let value = ["true": true, "1": true, "false": false, "0": false][values[0].lowercased()] else {
                    throw .badParameter("invalid filter 'dangling=\(values.joined(separator: ","))'")
                }
                dangling = value
            case "reference": references = values
            case "label": labels += values
            case "label!": excludedLabels += values
            case "until":
                guard values.count == 1, let epoch = TimeExpression.epoch(values[0], now: Int64(time(nil))) else {
                    throw .badParameter("invalid filter 'until=\(values.joined(separator: ","))': expected one timestamp or duration")
                }
                until = Double(epoch)
            default:  // before, since
                guard values.count == 1 else { throw .badParameter("invalid filter '\(key)': one image expected") }
                let record: ImageRecord
                do { record = try service.resolve(values[0]) } catch {
                    throw .notFound("No such image: \(values[0])")
                }
                let created = ImageFilters.created(record)
                if key == "before" { before = created } else { since = created }
            }
        }
    }

    /// When the image was made, to the nanosecond its RFC 3339 time gives (images made in
    /// the same second still order).
    static func created(_ record: ImageRecord) -> Double {
        guard let text = record.created, let seconds = Time.parseRFC3339(text) else { return 0 }
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
            fraction = Double("0." + digits) ?? 0
        }
        return Double(seconds) + fraction
    }

    func matches(_ record: ImageRecord, labels imageLabels: [String: String]) -> Bool {
        if let dangling, dangling != record.repoTags.isEmpty { return false }
        let created = ImageFilters.created(record)
        if let before, created >= before { return false }
        if let since, created <= since { return false }
        if let until, created >= until { return false }
        func has(_ item: String) -> Bool {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard let value = imageLabels[parts[0]] else { return false }
            return parts.count == 1 || value == parts[1]
        }
        if !labels.allSatisfy(has) { return false }
        if excludedLabels.contains(where: has) { return false }
        if !references.isEmpty {
            let names = record.repoTags.map(ImageService.familiarName)
            guard references.contains(where: { pattern in names.contains { ImageFilters.reference($0, matches: pattern) } }) else {
                return false
            }
        }
        return true
    }

    /// The names of an image a listing shows: with `reference` filters, only those that
    /// match one (dockerd lists `docker images web` with web's tags, not the image's
    /// other names).
    func shownNames(_ names: [String]) -> [String] {
        guard !references.isEmpty else { return names }
        return names.filter { name in references.contains { ImageFilters.reference(name, matches: $0) } }
    }

    /// docker's `reference` filter: the pattern against the whole name, or (without a tag
    /// in the pattern) against the repository; `*` and `?` never cross a `/`.
    static func reference(_ name: String, matches pattern: String) -> Bool {
        let repository: String
        if let at = name.firstIndex(of: "@") {
            repository = String(name[..<at])
        } else if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") {
            repository = String(name[..<colon])
        } else {
            repository = name
        }
        return glob(Array(pattern.utf8)[...], Array(name.utf8)[...]) || glob(Array(pattern.utf8)[...], Array(repository.utf8)[...])
    }

    private static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        switch first {
        case UInt8(ascii: "*"):
            var rest = text
            while true {
                if glob(pattern.dropFirst(), rest) { return true }
                guard let c = rest.first, c != UInt8(ascii: "/") else { return false }
                rest = rest.dropFirst()
            }
        case UInt8(ascii: "?"):
            guard let c = text.first, c != UInt8(ascii: "/") else { return false }
            return glob(pattern.dropFirst(), text.dropFirst())
        default:
            guard text.first == first else { return false }
            return glob(pattern.dropFirst(), text.dropFirst())
        }
    }
}
