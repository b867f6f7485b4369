import CaissonJSON
import DockerAPI
import Engine
import FuzzSupport

/// What caissond reads from a Docker API client before any engine call: one request's
/// bytes (head, then body) through the head boundary, `HTTPRequestHead.parse`, its body
/// framing and `APIRequest` (path, version, query), the query's `filters`, and the body
/// as `POST /containers/create`'s (`ContainerCreateRequest`). Errors are fine; traps are
/// not. A create body that is accepted gives a configuration the engine's store keeps:
/// encoded and decoded again, it is the same.
@_cdecl("fuzz_dockerapi_main")
public func fuzzDockerAPIMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzDockerAPI)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDockerAPI(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    guard let end = HTTPHeadBoundary.find(in: bytes, from: 0) else {
        createBody(bytes)
        return 0
    }
    Fuzz.check(end.headEnd < end.bodyStart && end.bodyStart <= bytes.count, "head boundary \(end) in \(bytes.count) bytes")
    let body = Array(bytes[end.bodyStart...])
    createBody(body)
    guard let head = try? HTTPRequestHead.parse(bytes[..<end.headEnd]) else { return 0 }
    if case .length(let length)? = try? head.bodyFraming() {
        Fuzz.check(length > 0, "a body length of \(length)")
    }
    guard let request = try? APIRequest(method: head.method, uri: head.uri, headers: head.headers, body: body) else { return 0 }
    Fuzz.check(request.path.hasPrefix("/"), "path \(request.path.debugDescription) from \(head.uri.debugDescription)")
    _ = request.bool("all")
    _ = try? request.int("limit")
    _ = try? FilterQuery.values(request.string("filters"))
    return 0
}

private func createBody(_ body: [UInt8]) {
    guard let config = try? ContainerCreateRequest.config(from: body) else { return }
    do {
        let stored = try JSONEncoding.encode(config)
        let again = try JSONDecoding.decode(ContainerConfig.self, from: stored)
        Fuzz.check(again == config, "the store changes an accepted configuration: \(String(decoding: stored, as: UTF8.self))")
    } catch {
        Fuzz.fail("the store cannot keep an accepted configuration: \(error)")
    }
}
