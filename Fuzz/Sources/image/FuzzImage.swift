import CaissonJSON
import FuzzSupport
import ImageSpec

/// Image documents from registries and archives: manifests, indexes and image configs
/// (a value or an `ImageSpecError`; a parsed document re-encodes to one that parses to
/// the same value), and the names users and archives give: references, digests, platforms.
@_cdecl("fuzz_image_main")
public func fuzzImageMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzImage)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    if let manifest = try? Manifest.parse(bytes) {
        roundTrip(manifest, manifest.encoded()) { (b) throws(ImageSpecError) in try Manifest.parse(b) }
    }
    if let index = try? ImageIndex.parse(bytes) {
        roundTrip(index, index.encoded()) { (b) throws(ImageSpecError) in try ImageIndex.parse(b) }
        _ = index.manifest(for: .current)
    }
    if let config = try? ImageConfig.parse(bytes) {
        roundTrip(config, config.encoded()) { (b) throws(ImageSpecError) in try ImageConfig.parse(b) }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let reference = try? ImageReference(parsing: text) {
        // The normalised form is itself a reference that normalises to itself.
        let normal = reference.description
        do {
            let again = try ImageReference(parsing: normal)
            Fuzz.check(again.description == normal, "reference \(text) -> \(normal) -> \(again.description)")
        } catch {
            Fuzz.fail("normalised reference \(normal) (from \(text)) does not parse: \(error)")
        }
    }
    if let digest = try? Digest(parsing: text) {
        Fuzz.check((try? Digest(parsing: digest.description)) == digest, "digest \(text) does not round-trip")
    }
    if let platform = try? Platform(parsing: text) {
        Fuzz.check((try? Platform(parsing: platform.description)) == platform, "platform \(text) does not round-trip")
    }
    return 0
}

private func roundTrip<T: Equatable>(_ value: T, _ encoded: [UInt8], _ parse: ([UInt8]) throws(ImageSpecError) -> T) {
    do {
        let again = try parse(encoded)
        Fuzz.check(again == value, "\(T.self) changed through encode/parse: \(String(decoding: encoded, as: UTF8.self))")
    } catch {
        Fuzz.fail("encoded \(T.self) does not parse: \(error): \(String(decoding: encoded, as: UTF8.self))")
    }
}
