#if canImport(Glibc)
import Glibc
#endif
import CaissonJSON
import CaissonSys
import Engine
import NIOHTTP1
import RegistryConfig

/// A container's filesystem over the API, through the engine's contained readers and
/// writers (`statPath`, `archivePath`, `extractArchive`, `changes`), for running and
/// stopped containers alike:
/// - `GET /containers/{id}/archive?path=`: a tar of the path with docker's
///   `X-Docker-Container-Path-Stat` header (base64 JSON name, size, mode, mtime,
///   linkTarget); `HEAD` answers the header only; a missing path is a 404.
/// - `PUT /containers/{id}/archive?path=&noOverwriteDirNonDir=&copyUIDGID=`: the body (a
///   tar, spooled to a file) extracted into the directory `path`, every entry kept inside
///   it; with copyUIDGID owned by the container's user.
/// - `GET /containers/{id}/export`: a tar of the whole root filesystem.
/// - `GET /containers/{id}/changes`: `[{"Path", "Kind"}]` from the overlay upper directory.
extension DockerAPI {
    func addArchiveRoutes(_ router: inout Router) {
        router.add(.GET, "/containers/{id}/archive") { [self] request in
            let id = request.parameters["id"] ?? ""
            guard let path = request.string("path"), !path.isEmpty else {
                throw DockerAPIError.badParameter("path cannot be empty")
            }
            let record = try await blocking { try self.engine.find(id) }
            let stat = try await blocking { try self.engine.statPath(record, path) }
            var headers = HTTPHeaders()
            headers.add(name: "X-Docker-Container-Path-Stat", value: DockerAPI.pathStatHeader(stat))
            if request.method == .HEAD { return APIResponse(status: .ok, headers: headers) }
            headers.add(name: "Content-Type", value: "application/x-tar")
            let file = try await spool { fd in try self.engine.archivePath(record, path, to: fd) }
            return APIResponse(status: .ok, headers: headers, body: streaming(file))
        }
        router.add(.PUT, "/containers/{id}/archive", body: .file) { [self] request in
            let id = request.parameters["id"] ?? ""
            guard let path = request.string("path"), !path.isEmpty else {
                throw DockerAPIError.badParameter("path cannot be empty")
            }
            guard let archive = request.bodyFile else { throw DockerAPIError.badParameter("the request has no tar body") }
            let noOverwrite = request.bool("noOverwriteDirNonDir")
            let copyUIDGID = request.bool("copyUIDGID")
            try await blocking {
                let record = try self.engine.find(id)
                try self.engine.extractArchive(record, archive: archive, into: path, noOverwriteDirNonDir: noOverwrite,
                                               copyUIDGID: copyUIDGID)
            }
            return APIResponse(status: .ok)
        }
        router.add(.GET, "/containers/{id}/export") { [self] request in
            let id = request.parameters["id"] ?? ""
            let record = try await blocking { try self.engine.find(id) }
            let file = try await spool { fd in try self.engine.archivePath(record, "/", to: fd, export: true) }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/x-tar")
            return APIResponse(status: .ok, headers: headers, body: streaming(file))
        }
        router.add(.GET, "/containers/{id}/changes") { [self] request in
            let id = request.parameters["id"] ?? ""
            let changes = try await blocking { try self.engine.changes(try self.engine.find(id)) }
            return .json(.array(changes.map { change in
                var item = JSONObject()
                item.set("Path", .string(change.path))
                item.set("Kind", .int(change.kind))
                return .object(item)
            }))
        }
    }

    /// docker's path stat header: base64 of `{"name","size","mode","mtime","linkTarget"}`.
    static func pathStatHeader(_ stat: ContainerPathStat) -> String {
        var object = JSONObject()
        object.set("name", .string(stat.name))
        object.set("size", .int(stat.size))
        object.set("mode", .int(stat.mode))
        object.set("mtime", .string(stat.mtime))
        object.set("linkTarget", .string(stat.linkTarget))
        return Base64.encode(JSONEncoding.serialize(.object(object)))
    }

    /// Runs `write` on a new file under the engine's root; the file's path (removed on failure).
    func spool(_ write: @escaping @Sendable (Int32) throws -> Void) async throws -> String {
        let path = engine.options.root + "/tmp-archive-" + ContainerEngine.randomID().prefix(16) + ".tar"
        try await blocking {
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SysError("open", path: path) }
            defer { close(fd) }
            do { try write(fd) } catch { unlink(path); throw error }
        }
        return path
    }

    /// A body that sends a spooled file in chunks and removes it afterwards.
    func streaming(_ path: String) -> APIResponse.Body {
        .stream { [self] output in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            unlink(path)
            guard fd >= 0 else { throw SysError("open", path: path) }
            defer { close(fd) }
            while true {
                let chunk = try await blocking { () throws -> [UInt8] in
                    var buffer = [UInt8](repeating: 0, count: 1 << 16)
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    guard n >= 0 else { throw SysError("read", path: path) }
                    return Array(buffer[0..<n])
                }
                if chunk.isEmpty { return }
                try await output.send(chunk)
            }
        }
    }
}
