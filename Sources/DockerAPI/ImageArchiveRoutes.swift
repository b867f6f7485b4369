#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import Engine
import Images
import NIOHTTP1

/// docker save and load: `GET /images/get?names=A&names=B` and `GET /images/{name}/get`
/// answer a docker-archive tar (written by the image service into a scratch file first,
/// so a missing image is a 404 rather than a broken stream); `POST /images/load` reads
/// a docker or OCI archive from the body and answers `{"stream":"Loaded image: NAME\n"}`
/// lines (`Loaded image ID: ID` for an image without a name).
extension DockerAPI {
    func addImageArchiveRoutes(_ router: inout Router) {
        router.add(.GET, "/images/get") { [self] request in
            let names = (request.query["names"] ?? []).filter { !$0.isEmpty }
            guard !names.isEmpty else { throw DockerAPIError.badParameter("invalid parameter names: name at least one image") }
            return try await saved(names)
        }
        router.add(.GET, "/images/{name*}/get") { [self] request in
            try await saved([request.parameters["name"] ?? ""])
        }
        router.add(.POST, "/images/load", body: .file) { [self] request in
            guard let file = request.bodyFile else { throw DockerAPIError.badParameter("the archive is missing: send it as the body") }
            let service = engine.images
            let records = try await blocking { () throws -> [ImageRecord] in
                let fd = open(file, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw SysError("open", path: file) }
                defer { close(fd) }
                return try service.load(fd: fd, path: "the request body")
            }
            var body: [UInt8] = []
            for record in records {
                let lines = record.repoTags.isEmpty ? ["Loaded image ID: \(record.id)"]
                                                    : record.repoTags.map { "Loaded image: " + ImageService.familiarName($0) }
                for line in lines {
                    var object = JSONObject()
                    object.set("stream", .string(line + "\n"))
                    body += JSONEncoding.serialize(.object(object)) + [0x0A]
                }
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            return APIResponse(status: .ok, headers: headers, body: .bytes(body))
        }
    }

    /// The images as a docker archive, streamed from a scratch file removed afterwards.
    func saved(_ names: [String]) async throws -> APIResponse {
        let service = engine.images
        let path = service.root + "/tmp-save-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tar"
        let fd = try await blocking { () throws -> Int32 in
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SysError("open", path: path) }
            unlink(path)  // The descriptor keeps it until the stream ends.
            do {
                try service.save(names, format: .dockerArchive, to: fd, path: path)
            } catch {
                close(fd)
                throw error
            }
            return fd
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-tar")
        return APIResponse(status: .ok, headers: headers, body: .stream { [self] stream in
            defer { close(fd) }
            var offset: off_t = 0
            while true {
                let at = offset
                let chunk = try await blocking { () throws -> [UInt8] in
                    var buffer = [UInt8](repeating: 0, count: 1 << 20)
                    let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, at) }
                    guard count >= 0 else { throw SysError("read", path: path) }
                    return Array(buffer[0..<count])
                }
                if chunk.isEmpty { break }
                offset += off_t(chunk.count)
                try await stream.send(chunk)
            }
        })
    }
}
