import CaissonJSON
import Images
import Registry

/// `GET /images/search?term=&limit=&filters=` (docker search) over the image service's
/// catalog search: `[{"star_count","is_official","name","is_automated","description"}]`.
/// A bad limit or filter is a 400 naming it; registries that could not be searched, when
/// none could, a 500 naming each (Docker Hub's index among them).
extension DockerAPI {
    func addImageSearchRoute(_ router: inout Router) {
        router.add(.GET, "/images/search") { [self] request in
            let term = request.string("term") ?? ""
            var limit = 25
            if let text = request.string("limit"), !text.isEmpty {
                guard let value = Int(text) else { throw DockerAPIError.badParameter("invalid limit \"\(text)\"") }
                if value != 0 { limit = value }
            }
            guard ImageService.searchLimitRange.contains(limit) else {
                throw DockerAPIError.badParameter("limit \(limit) is outside the range of [1, 100]")
            }
            let filter: ImageSearchFilter
            do throws(ImageError) {
                filter = try ImageSearchFilter.parse(try DockerAPI.searchFilterItems(request.string("filters")))
            } catch {
                throw DockerAPIError.badParameter(error.description)
            }
            guard !term.isEmpty else { throw DockerAPIError.badParameter("a search term is needed") }
            let explicit = try DockerAPI.registryAuth(request.headers["X-Registry-Auth"].first)
            let client = RegistryClient(credentials: engine.images.credentials, explicit: explicit)
            let outcome: ImageSearchOutcome
            do throws(ImageError) { outcome = try await engine.images.search(term, limit: limit, filter: filter, client: client) } catch {
                await client.shutdown()
                if case .invalid = error { throw DockerAPIError.badParameter(error.description) }
                throw DockerAPIError(.internalServerError, error.description)
            }
            await client.shutdown()
            return .json(.array(outcome.results.map { result in
                var object = JSONObject()
                object.set("star_count", .int(Int64(result.stars)))
                object.set("is_official", .bool(result.official))
                object.set("name", .string(result.name))
                object.set("is_automated", .bool(result.automated))
                object.set("description", .string(result.description))
                return .object(object)
            }))
        }
    }

    /// docker's `filters` JSON (`{"stars":["3"]}` or `{"is-official":{"true":true}}`) as
    /// key and value pairs.
    static func searchFilterItems(_ text: String?) throws(ImageError) -> [(key: String, value: String)] {
        guard let text, !text.isEmpty else { return [] }
        guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else { throw .invalid("invalid filters: \(text)") }
        var items: [(key: String, value: String)] = []
        for key in object.keys {
            switch object[key] {
            case .array(let values)?: for case .string(let value) in values { items.append((key, value)) }
            case .object(let map)?: for value in map.keys { items.append((key, value)) }
            default: throw .invalid("invalid filter '\(key)'")
            }
        }
        return items
    }
}
