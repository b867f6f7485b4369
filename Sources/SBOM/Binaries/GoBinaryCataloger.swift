/// Go executables: the main module, every module linked in (a replaced one with the
/// replacement's version, as it is what was built) and the standard library as `stdlib`
/// at the toolchain's version (how OSV's Go advisories name it), read from the build
/// information the linker embeds — nothing is run.
public struct GoBinaryCataloger: ExecutableCataloger {
    public let name = "go-binary"

    public init() {}

    public func catalog(_ context: CatalogContext) -> CatalogerOutput {
        var output = CatalogerOutput()
        for file in context.selectedFiles {
            guard let info = GoBuildInfo.read(context.files, path: file.path, size: file.size) else { continue }
            func package(_ path: String, _ version: String) -> CatalogedPackage {
                let slash = path.lastIndex(of: "/")
                let purl = PackageURL(type: "golang", namespace: slash.map { String(path[..<$0]) },
                                      name: slash.map { String(path[path.index(after: $0)...]) } ?? path, version: version)
                return CatalogedPackage(name: path, version: version, ecosystem: .go, locations: [file.path],
                                        layer: file.layer, purl: purl.description)
            }
            if let main = info.main {
                output.packages.append(package(main.replacement?.path ?? main.path, main.replacement?.version ?? main.version))
            }
            for dependency in info.dependencies {
                let chosen = dependency.replacement.map { replacement in
                    // A replacement by a local directory has no version: keep the required one.
                    replacement.version.isEmpty || replacement.version == "(devel)" ? (dependency.path, dependency.version) : replacement
                } ?? (dependency.path, dependency.version)
                output.packages.append(package(chosen.0, chosen.1))
            }
            let toolchain = info.goVersion.hasPrefix("go") ? String(info.goVersion.dropFirst(2)) : info.goVersion
            output.packages.append(package("stdlib", String(toolchain.prefix { $0 != " " })))
        }
        return output
    }
}
