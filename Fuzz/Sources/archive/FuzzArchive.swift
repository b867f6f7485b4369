#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import FuzzSupport
import Images

/// `caisson load`: a docker-archive or OCI archive (plain, gzip or zstd) loaded into a
/// fresh image store (vfs snapshots). The images it holds or an `ImageError`, never a
/// crash; nothing is written beside the store's root.
@_cdecl("fuzz_archive_main")
public func fuzzArchiveMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzArchive)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchive(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let base = Fuzz.makeScratch("archive")
    let archive = base + "/archive.tar"
    let root = base + "/store"
    do { try Files.write(archive, bytes: Fuzz.bytes(data, size)) } catch { Fuzz.fail("\(error)") }
    let fd = open(archive, O_RDONLY | O_CLOEXEC)
    Fuzz.check(fd >= 0, "open \(archive)")
    do {
        let service = try ImageService(ImageStoreOptions(root: root, registriesConf: emptyRegistriesConf, driver: .vfs))
        if let images = try? service.load(fd: fd, path: archive) {
            for image in images {
                _ = try? service.manifest(of: image)
                _ = try? service.config(of: image)
            }
        }
    } catch {
        Fuzz.fail("image store: \(error)")
    }
    close(fd)
    Fuzz.check(Fuzz.entries(base) == ["archive.tar", "store"], "load wrote beside its store: \(Fuzz.entries(base))")
    Fuzz.removeScratch(base)
    return 0
}

nonisolated(unsafe) private let emptyRegistriesConf: String = {
    let path = Fuzz.makeScratch("archive-conf") + "/registries.conf"
    do { try Files.write(path, bytes: []) } catch { Fuzz.fail("\(error)") }
    return path
}()
