import CaissonJSON
import CaissonSys
import FuzzSupport
import OCISpec
import RuntimeCore

/// The runtime's documents: config.json (the direct `SpecReading` path and Codable),
/// process.json (`exec --process`), resources.json (`update -r`), the OCI state document,
/// and the runtime's own state.json (read by `StateStore.load`). Every input goes through
/// all of them: a value or a `ConfigError`/`RuntimeError`, never a crash.
@_cdecl("fuzz_config_main")
public func fuzzConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzConfig)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    if let spec = try? SpecJSON.decodeSpec(bytes, file: "config.json") {
        _ = try? SpecValidator.validate(spec)
        // What the runtime writes (Codable) reads back to the same spec.
        let written = SpecJSON.encode(spec)
        do {
            let again = try SpecJSON.decodeSpec(written, file: "config.json")
            Fuzz.check(again == spec, "config.json changed through encode/decode: \(String(decoding: written, as: UTF8.self))")
        } catch {
            Fuzz.fail("an encoded spec does not read back: \(error): \(String(decoding: written, as: UTF8.self))")
        }
    }
    if let spec = try? SpecJSON.decode(Spec.self, from: bytes, file: "config.json") {
        _ = try? SpecValidator.validate(spec, requireProcess: false)
    }
    if let process = try? SpecJSON.decode(Process.self, from: bytes, file: "process.json") {
        _ = try? SpecValidator.validate(process, file: "process.json")
    }
    _ = try? SpecJSON.decode(Resources.self, from: bytes, file: "resources.json")
    _ = try? SpecJSON.decode(ContainerStateDocument.self, from: bytes, file: "state")
    loadState(bytes)
    return 0
}

/// state.json as `StateStore.load` reads it, beside a valid config.json copy.
private func loadState(_ bytes: [UInt8]) {
    let store = StateStore(root: stateRoot)
    do { try Files.write(store.directory(of: "fuzz") + "/state.json", bytes: bytes) } catch { Fuzz.fail("\(error)") }
    _ = try? store.load(id: "fuzz")
}

nonisolated(unsafe) private let stateRoot: String = {
    let root = Fuzz.makeScratch("state")
    let store = StateStore(root: root)
    do {
        try store.reserve(id: "fuzz")
        try Files.write(store.directory(of: "fuzz") + "/config.json", bytes: SpecJSON.encode(DefaultSpec.make(rootless: false)))
    } catch {
        Fuzz.fail("state root: \(error)")
    }
    return root
}()
