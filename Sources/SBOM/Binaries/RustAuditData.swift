import CaissonJSON
import LayerArchive

/// The dependency list `cargo auditable` links into a Rust executable: the `.dep-v0`
/// ELF section, a zlib stream of JSON `{"packages": [{"name", "version", "source",
/// "kind", "dependencies", "root"}, ...]}` (rustsec's cargo-auditable schema). Read
/// from the file's bytes; nothing is run.
struct RustAuditData: Decodable, Equatable {
    struct Package: Decodable, Equatable {
        var name: String
        var version: String
        /// "crates.io", "registry", "git", "local", or another source's name.
        var source: String
        /// "build" for what only ran while building (build scripts, proc macros); absent
        /// or "runtime" for what is linked in.
        var kind: String?
        var dependencies: [Int]?
        var root: Bool?

        var isLinkedIn: Bool { kind != "build" }
    }

    var packages: [Package]

    static let sectionName = ".dep-v0"
    /// Real lists are a few kilobytes compressed; these bounds keep a crafted section small.
    static let compressedLimit = 8 << 20
    static let inflatedLimit = 64 << 20

    /// Why a `.dep-v0` section could not be used.
    struct Unreadable: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    /// nil when the file is not an ELF executable with a `.dep-v0` section.
    static func read(_ files: some ImageFiles, path: String) throws(Unreadable) -> RustAuditData? {
        guard let elf = ELFFile(files, path: path), let section = elf.section(sectionName) else { return nil }
        guard section.size > 0, section.size <= UInt64(compressedLimit) else {
            throw Unreadable(reason: "\(sectionName) section of \(section.size) bytes (at most \(compressedLimit) are read)")
        }
        guard let compressed = files.read(path, offset: Int(section.offset), count: Int(section.size)),
              compressed.count == Int(section.size) else {
            throw Unreadable(reason: "\(sectionName) section lies past the end of the file")
        }
        let json: [UInt8]
        do {
            json = try ZlibInflation.inflate(compressed, limit: inflatedLimit, name: sectionName)
        } catch {
            throw Unreadable(reason: error.description)
        }
        do {
            let data = try JSONDecoding.decode(RustAuditData.self, from: json)
            for package in data.packages {
                if let bad = package.dependencies?.first(where: { $0 < 0 || $0 >= data.packages.count }) {
                    throw Unreadable(reason: "\(sectionName): package \(package.name) depends on index \(bad) of \(data.packages.count)")
                }
            }
            return data
        } catch let error as Unreadable {
            throw error
        } catch {
            throw Unreadable(reason: "\(sectionName) does not hold cargo-auditable's JSON: \(error)")
        }
    }
}
