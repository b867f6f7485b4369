#if canImport(Glibc)
import Glibc
#endif
import CaissonShim

extension CopyWriter {
    /// Copies the extended attributes of a COPY source (`user.*`, `security.capability`,
    /// ...) to what was written, as BuildKit and buildah keep them; overlayfs's own are
    /// left out, and an attribute the layer's filesystem refuses is skipped.
    static func copyAttributes(from source: String, to destination: String, following: Bool) {
        var names = [CChar](repeating: 0, count: 65536)
        let length = following ? listxattr(source, &names, names.count) : llistxattr(source, &names, names.count)
        guard length > 0 else { return }
        for raw in names[0..<length].split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if name.hasPrefix("trusted.overlay.") || name.hasPrefix("user.overlay.") { continue }
            var value = [UInt8](repeating: 0, count: 65536)
            let count = following ? getxattr(source, name, &value, value.count) : lgetxattr(source, name, &value, value.count)
            guard count >= 0 else { continue }
            _ = lsetxattr(destination, name, value, count, 0)
        }
    }
}
