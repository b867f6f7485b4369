import CaissonSys
import FuzzSupport
import ImageSpec
import RegistryConfig

/// The registry settings users and other tools write: registries.conf (the TOML parser,
/// then the v1/v2 model and the endpoints it gives) and auth files (docker/podman
/// `auths` JSON with base64 credentials). A value or a typed error, never a crash.
@_cdecl("fuzz_registries_main")
public func fuzzRegistriesMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzRegistries)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegistries(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? TOMLParser.parse(text)
    if let conf = try? RegistriesConf.parse(text) {
        for reference in references {
            _ = try? conf.pullEndpoints(for: reference)
            _ = try? conf.pushEndpoint(for: reference)
        }
    }
    // The same bytes as an auth file.
    do { try Files.write(authFile, bytes: bytes, mode: 0o600) } catch { Fuzz.fail("\(error)") }
    let store = CredentialStore(file: authFile)
    for host in ["docker.io", "localhost:5000", "quay.io"] {
        _ = try? store.credential(for: host)
    }
    if let decoded = Base64.decode(text) {
        Fuzz.check(Base64.decode(Base64.encode(decoded)) == decoded, "base64 round trip")
    }
    return 0
}

nonisolated(unsafe) private let references: [ImageReference] = [
    "busybox", "docker.io/library/busybox:latest", "quay.io/podman/stable@sha256:" + String(repeating: "a", count: 64),
    "localhost:5000/team/app:v1", "example.com/a/b/c",
].compactMap { try? ImageReference(parsing: $0) }

nonisolated(unsafe) private let authFile = Fuzz.makeScratch("auth") + "/auth.json"
