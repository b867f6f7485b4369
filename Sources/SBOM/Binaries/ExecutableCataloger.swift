/// A cataloger that reads what compilers embed in executables (Go's build information,
/// cargo auditable's crate list): it wants every executable file big enough to be a
/// program rather than a script.
public protocol ExecutableCataloger: PackageCataloger {}

extension ExecutableCataloger {
    public func selects(_ file: ImageFileEntry) -> Bool {
        file.isExecutable && file.size > 4096
    }
}
